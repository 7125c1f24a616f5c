package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// The four record types: what is stored and answered (Symptom, PeakFlow,
// ACTResult, HealthEvent) and what a body writes (their rows).

func (a *API) kinds() []route {
	return []route{
		kind[Symptom, symptomRow]{path: "symptoms", table: a.store.symptoms, parse: a.parseSymptom},
		kind[PeakFlow, peakFlowRow]{path: "peak-flows", table: a.store.peakFlows, parse: a.parsePeakFlow, complete: a.peakFlowZone},
		kind[ACTResult, actRow]{path: "act-results", table: a.store.actResults, parse: a.parseACT},
		kind[HealthEvent, healthEventRow]{path: "health-events", table: a.store.healthEvents, parse: a.parseHealthEvent},
	}
}

// Symptom is one symptom diary entry.
type Symptom struct {
	ID              uint64    `json:"id"`
	RecordedAt      time.Time `json:"recorded_at"`
	Severity        int       `json:"severity"`
	NightWaking     bool      `json:"night_waking"`
	ActivityLimited bool      `json:"activity_limited"`
	Triggers        []string  `json:"triggers"`
	Memo            string    `json:"memo"`
}

func (s Symptom) position() (string, uint64) { return care.Instant(s.RecordedAt), s.ID }

func scanSymptom(r mysql.Scanner) (Symptom, error) {
	var s Symptom
	var triggers string
	if err := r.Scan(&s.ID, &s.RecordedAt, &s.Severity, &s.NightWaking, &s.ActivityLimited, &triggers, &s.Memo); err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(triggers), &s.Triggers); err != nil || s.Triggers == nil {
		s.Triggers = []string{}
	}
	return s, nil
}

// symptomRow is what a symptom body writes.
type symptomRow struct {
	recordedAt            time.Time
	severity              int
	nightWaking, activity bool
	triggers              string // JSON array
	memo                  string
}

func (r symptomRow) columns() []column {
	return []column{{"recorded_at", r.recordedAt}, {"severity", r.severity}, {"night_waking", r.nightWaking},
		{"activity_limited", r.activity}, {"triggers", r.triggers}, {"memo", r.memo}}
}

func (a *API) parseSymptom(c *gin.Context) (symptomRow, error) {
	var in struct {
		RecordedAt      *string  `json:"recorded_at"`
		Severity        *int     `json:"severity"`
		NightWaking     bool     `json:"night_waking"`
		ActivityLimited bool     `json:"activity_limited"`
		Triggers        []string `json:"triggers"`
		Memo            string   `json:"memo"`
	}
	if err := care.Decode(c, &in); err != nil {
		return symptomRow{}, err
	}
	var v care.Checker
	at := v.RequiredInstant("recorded_at", in.RecordedAt, a.Now())
	if web.Required(&v.Fields, "severity", in.Severity) {
		v.IntRange("severity", *in.Severity, SeverityNone, SeverityMax)
	}
	if len(in.Triggers) > 10 {
		v.Add("triggers", web.FieldTooLong, "triggers 는 10개까지입니다.")
	}
	for i, t := range in.Triggers {
		if t == "" || len([]rune(t)) > 30 {
			v.Add("triggers", web.FieldInvalid, "triggers 의 항목은 1~30자여야 합니다.")
			break
		}
		v.UserText(fmt.Sprintf("triggers[%d]", i), t, true)
	}
	v.MaxLen("memo", in.Memo, 1000)
	v.UserText("memo", in.Memo, false)
	if err := v.Err(); err != nil {
		return symptomRow{}, err
	}
	if in.Triggers == nil {
		in.Triggers = []string{}
	}
	triggers, _ := json.Marshal(in.Triggers)
	return symptomRow{recordedAt: at, severity: *in.Severity, nightWaking: in.NightWaking, activity: in.ActivityLimited,
		triggers: string(triggers), memo: in.Memo}, nil
}

// PeakFlow is one peak expiratory flow reading.
type PeakFlow struct {
	ID              uint64    `json:"id"`
	RecordedAt      time.Time `json:"recorded_at"`
	ValueLPM        int       `json:"value_lpm"`
	Slot            string    `json:"slot"`
	PersonalBestLPM *int      `json:"personal_best_lpm"`
	PercentOfBest   *int      `json:"percent_of_best"`
	Zone            *string   `json:"zone"`
}

func (p PeakFlow) position() (string, uint64) { return care.Instant(p.RecordedAt), p.ID }

func scanPeakFlow(r mysql.Scanner) (PeakFlow, error) {
	var p PeakFlow
	var best, pct sql.NullInt64
	var zone sql.NullString
	if err := r.Scan(&p.ID, &p.RecordedAt, &p.ValueLPM, &p.Slot, &best, &pct, &zone); err != nil {
		return p, err
	}
	if best.Valid {
		b, q := int(best.Int64), int(pct.Int64)
		p.PersonalBestLPM, p.PercentOfBest = &b, &q
	}
	if zone.Valid {
		p.Zone = &zone.String
	}
	return p, nil
}

// peakFlowRow is what a peak-flow body writes; the snapshot of the
// personal best, percentage and zone is added in the write's transaction
// (nil: no personal best).
type peakFlowRow struct {
	recordedAt time.Time
	valueLPM   int
	slot       string
	best       *int64
	percent    *int
	zone       *string
}

func (r peakFlowRow) columns() []column {
	return []column{{"recorded_at", r.recordedAt}, {"value_lpm", r.valueLPM}, {"slot", r.slot},
		{"personal_best_lpm", r.best}, {"percent_of_best", r.percent}, {"zone", r.zone}}
}

func (a *API) parsePeakFlow(c *gin.Context) (peakFlowRow, error) {
	var in struct {
		RecordedAt *string `json:"recorded_at"`
		ValueLPM   *int    `json:"value_lpm"`
		Slot       *string `json:"slot"`
	}
	if err := care.Decode(c, &in); err != nil {
		return peakFlowRow{}, err
	}
	var v care.Checker
	at := v.RequiredInstant("recorded_at", in.RecordedAt, a.Now())
	if web.Required(&v.Fields, "value_lpm", in.ValueLPM) {
		v.IntRange("value_lpm", *in.ValueLPM, 1, MaxPEF)
	}
	if web.Required(&v.Fields, "slot", in.Slot) {
		v.OneOf("slot", *in.Slot, "morning", "evening", "other")
	}
	if err := v.Err(); err != nil {
		return peakFlowRow{}, err
	}
	return peakFlowRow{recordedAt: at, valueLPM: *in.ValueLPM, slot: *in.Slot}, nil
}

// peakFlowZone adds the personal best, percentage and zone of a reading. A
// new reading snapshots the plan's best; an edited one keeps the best of
// its first recording (the zone of its time), recomputed for the new value
// (Store.PersonalBest).
func (a *API) peakFlowZone(ctx context.Context, q mysql.Querier, userID, id uint64, r peakFlowRow) (peakFlowRow, error) {
	best, err := a.store.PersonalBest(ctx, q, userID, id)
	if err != nil {
		return r, err
	}
	r.best, r.percent, r.zone = nil, nil, nil
	if best.Valid {
		if pct, ok := PercentOfBest(r.valueLPM, int(best.Int64)); ok {
			zone := ZoneOf(pct)
			r.best, r.percent, r.zone = &best.Int64, &pct, &zone
		}
	}
	return r, nil
}

// ACTResult is one Asthma Control Test.
type ACTResult struct {
	ID         uint64    `json:"id"`
	RecordedAt time.Time `json:"recorded_at"`
	Answers    [5]int    `json:"answers"`
	Total      int       `json:"total"`
	Control    string    `json:"control"`
}

func (x ACTResult) position() (string, uint64) { return care.Instant(x.RecordedAt), x.ID }

func scanACT(r mysql.Scanner) (ACTResult, error) {
	var x ACTResult
	if err := r.Scan(&x.ID, &x.RecordedAt, &x.Answers[0], &x.Answers[1], &x.Answers[2], &x.Answers[3], &x.Answers[4], &x.Total); err != nil {
		return x, err
	}
	x.Control = ACTControl(x.Total)
	return x, nil
}

// actRow is what an ACT body writes.
type actRow struct {
	recordedAt time.Time
	answers    [5]int
	total      int
}

func (r actRow) columns() []column {
	return []column{{"recorded_at", r.recordedAt}, {"q1", r.answers[0]}, {"q2", r.answers[1]}, {"q3", r.answers[2]},
		{"q4", r.answers[3]}, {"q5", r.answers[4]}, {"total", r.total}}
}

func (a *API) parseACT(c *gin.Context) (actRow, error) {
	var in struct {
		RecordedAt *string `json:"recorded_at"`
		Answers    []int   `json:"answers"`
	}
	if err := care.Decode(c, &in); err != nil {
		return actRow{}, err
	}
	var v care.Checker
	at := v.RequiredInstant("recorded_at", in.RecordedAt, a.Now())
	var answers [5]int
	switch {
	case in.Answers == nil:
		v.Add("answers", web.FieldRequired, "answers 값이 필요합니다.")
	case len(in.Answers) != 5:
		v.Add("answers", web.FieldInvalid, "answers 는 다섯 개의 답(1~5)이어야 합니다.")
	default:
		for i, n := range in.Answers {
			v.IntRange(fmt.Sprintf("answers[%d]", i), n, 1, 5)
			answers[i] = n
		}
	}
	if err := v.Err(); err != nil {
		return actRow{}, err
	}
	total, err := ACTTotal(answers)
	if err != nil {
		return actRow{}, err
	}
	return actRow{recordedAt: at, answers: answers, total: total}, nil
}

// HealthEvent is an exacerbation: an ER visit, an admission or an oral
// steroid course. Dates are local dates in the user's zone.
type HealthEvent struct {
	ID        uint64  `json:"id"`
	Kind      string  `json:"kind"`
	StartDate string  `json:"start_date"`
	EndDate   *string `json:"end_date"`
	Memo      string  `json:"memo"`
}

// Health event kinds.
const (
	EventERVisit     = "er_visit"
	EventAdmission   = "admission"
	EventOralSteroid = "oral_steroid"
)

func (h HealthEvent) position() (string, uint64) { return h.StartDate, h.ID }

// ScanHealthEvent reads the columns id, kind, start_date, end_date, memo.
func ScanHealthEvent(r mysql.Scanner) (HealthEvent, error) {
	var h HealthEvent
	var start time.Time
	var end sql.NullTime
	if err := r.Scan(&h.ID, &h.Kind, &start, &end, &h.Memo); err != nil {
		return h, err
	}
	h.StartDate = start.Format(time.DateOnly)
	if end.Valid {
		s := end.Time.Format(time.DateOnly)
		h.EndDate = &s
	}
	return h, nil
}

// healthEventRow is what a health event body writes (dates as YYYY-MM-DD;
// endDate nil: none).
type healthEventRow struct {
	kind, startDate string
	endDate         *string
	memo            string
}

func (r healthEventRow) columns() []column {
	return []column{{"kind", r.kind}, {"start_date", r.startDate}, {"end_date", r.endDate}, {"memo", r.memo}}
}

func (a *API) parseHealthEvent(c *gin.Context) (healthEventRow, error) {
	var in struct {
		Kind      *string `json:"kind"`
		StartDate *string `json:"start_date"`
		EndDate   *string `json:"end_date"`
		Memo      string  `json:"memo"`
	}
	if err := care.Decode(c, &in); err != nil {
		return healthEventRow{}, err
	}
	var v care.Checker
	if web.Required(&v.Fields, "kind", in.Kind) {
		v.OneOf("kind", *in.Kind, EventERVisit, EventAdmission, EventOralSteroid)
	}
	var start, end time.Time
	okStart, okEnd := false, false
	// An event has started by tomorrow (the records' bounds); its end may be
	// planned (an oral steroid course), at most a year further.
	latest := web.LatestRecord(a.Now())
	if web.Required(&v.Fields, "start_date", in.StartDate) {
		start, okStart = v.Date("start_date", *in.StartDate, latest)
	}
	var endDate *string
	if in.EndDate != nil {
		end, okEnd = v.Date("end_date", *in.EndDate, latest.AddDate(1, 0, 0))
		if okEnd {
			s := end.Format(time.DateOnly)
			endDate = &s
		}
	}
	if okStart && okEnd && end.Before(start) {
		v.Add("end_date", web.FieldOutOfRange, "end_date 는 start_date 이후여야 합니다.")
	}
	v.MaxLen("memo", in.Memo, 1000)
	v.UserText("memo", in.Memo, false)
	if err := v.Err(); err != nil {
		return healthEventRow{}, err
	}
	return healthEventRow{kind: *in.Kind, startDate: start.Format(time.DateOnly), endDate: endDate, memo: in.Memo}, nil
}
