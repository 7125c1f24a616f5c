package cli

import (
	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/dictionary"
)

func newSynonymsCmd(e *env) *cobra.Command {
	return newRulesCmd(e, rulesCmd{
		use: "synonyms", kind: dictionary.Synonyms, noun: "rule", example: "흡입기, 인헤일러, inhaler",
		short: "List, add, edit or delete search synonym rules (in MySQL, audited)",
		long: `Manage the search synonyms in MySQL (table analysis_synonym_rules; migration 00042 seeded it from
analyzers/synonyms_ko.txt). A rule is an equivalence group of two or more lower-case terms separated
by commas ("흡입기, 인헤일러, inhaler"); a term belongs to one group only, and every Korean word of a
term must be a dictionary entry (soomcare dict), so nori keeps it whole. Synonyms apply at search
time (the ko_search analyzer).`,
	})
}
