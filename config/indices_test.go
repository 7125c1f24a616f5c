package config

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/mappings"
)

func TestIndexShapes(t *testing.T) {
	tests := []struct {
		name         string
		file         string
		env          []string
		wantKey      string // "" means valid
		want         string
		postsShards  int
		postsReplica *int // nil: auto
	}{
		{name: "defaults: one shard, auto replicas", postsShards: 1},
		{name: "file", file: "search:\n  indices:\n    posts: {shards: 3, replicas: 1}\n", postsShards: 3, postsReplica: replicasOf(1)},
		{name: "env", env: []string{"SOOMCARE_SEARCH_INDICES_POSTS_SHARDS=2", "SOOMCARE_SEARCH_INDICES_POSTS_REPLICAS=0"}, postsShards: 2, postsReplica: replicasOf(0)},
		{name: "zero shards", env: []string{"SOOMCARE_SEARCH_INDICES_POSTS_SHARDS=0"}, wantKey: "search.indices.posts.shards", want: "between 1 and 1024"},
		{name: "too many shards", env: []string{"SOOMCARE_SEARCH_INDICES_USERS_SHARDS=1025"}, wantKey: "search.indices.users.shards", want: "between 1 and 1024"},
		{name: "negative replicas", env: []string{"SOOMCARE_SEARCH_INDICES_CONTENTS_REPLICAS=-1"}, wantKey: "search.indices.contents.replicas", want: "0 or more"},
		{name: "words are not replicas", env: []string{"SOOMCARE_SEARCH_INDICES_CONTENTS_REPLICAS=two"}, wantKey: "search.indices.contents.replicas", want: "auto"},
		{name: "unknown index", file: "search:\n  indices:\n    comments: {shards: 2}\n", wantKey: "search.indices.comments.shards", want: "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			c, err := Load(path, tt.env)
			if tt.wantKey != "" {
				var cerr *Error
				if !errors.As(err, &cerr) || cerr.Key != tt.wantKey || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want an error on %s mentioning %q", err, tt.wantKey, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sh := c.Search.Indices["posts"]
			got := sh.ReplicaCount()
			if sh.Shards != tt.postsShards || (got == nil) != (tt.postsReplica == nil) || (got != nil && *got != *tt.postsReplica) {
				t.Errorf("posts = %+v, want %d shards, replicas %v", sh, tt.postsShards, tt.postsReplica)
			}
			if len(c.Search.Indices) != 3 {
				t.Errorf("indices = %v, want contents, posts and users", c.Search.Indices)
			}
		})
	}
}

func replicasOf(n int) *int { return &n }

// search.indices has a key for each index of package mappings and none
// other: the index names are mappings' list.
func TestIndexKeysFollowMappings(t *testing.T) {
	var got []string
	for _, k := range Keys() {
		if rest, ok := strings.CutPrefix(k, "search.indices."); ok {
			if name, ok := strings.CutSuffix(rest, ".shards"); ok {
				got = append(got, name)
			}
		}
	}
	want := slices.Sorted(slices.Values(mappings.Names()))
	if !slices.Equal(got, want) {
		t.Errorf("search.indices names = %v, want mappings.Names() %v", got, want)
	}
}
