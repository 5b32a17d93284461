package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vakt/vakt/postgres"
	"github.com/vakt/vakt/sqlite"
)

// storeCollector exports the inner state of the open tenant stores.
type storeCollector struct{ stores *sqlite.Stores }

var (
	descEntries = prometheus.NewDesc("vakt_store_entries", "Entries in a tenant's log (its last sequence number).", []string{"tenant"}, nil)
	descRuns    = prometheus.NewDesc("vakt_store_index_runs", "Live index runs of a tenant's log.", []string{"tenant"}, nil)
	descTail    = prometheus.NewDesc("vakt_store_tail_entries", "Entries indexed in memory only, not yet sealed into a run.", []string{"tenant"}, nil)
	descCommits = prometheus.NewDesc("vakt_store_commits_total", "Group commits of a tenant's log.", []string{"tenant"}, nil)
	descCommitS = prometheus.NewDesc("vakt_store_commit_seconds_total", "Time spent in group commits.", []string{"tenant"}, nil)
	descMerges  = prometheus.NewDesc("vakt_store_merges_total", "Index run merges.", []string{"tenant"}, nil)
)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEntries, descRuns, descTail, descCommits, descCommitS, descMerges} {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	for id, st := range c.stores.Opened() {
		in := st.Internals()
		ch <- prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(in.Entries), id)
		ch <- prometheus.MustNewConstMetric(descRuns, prometheus.GaugeValue, float64(in.Runs), id)
		ch <- prometheus.MustNewConstMetric(descTail, prometheus.GaugeValue, float64(in.TailEntries), id)
		ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(in.Commits), id)
		ch <- prometheus.MustNewConstMetric(descCommitS, prometheus.CounterValue, in.CommitSeconds, id)
		ch <- prometheus.MustNewConstMetric(descMerges, prometheus.CounterValue, float64(in.Merges), id)
	}
}

// pgStoreCollector exports the work of the PostgreSQL tenant stores this node has open.
type pgStoreCollector struct{ stores *postgres.Stores }

func (c pgStoreCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCommits
	ch <- descCommitS
}

func (c pgStoreCollector) Collect(ch chan<- prometheus.Metric) {
	for id, st := range c.stores.Opened() {
		in := st.Internals()
		ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(in.Commits), id)
		ch <- prometheus.MustNewConstMetric(descCommitS, prometheus.CounterValue, in.CommitTotal.Seconds(), id)
	}
}
