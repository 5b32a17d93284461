// Package server assembles vakt's one HTTP server: the REST API, health and readiness probes,
// Prometheus metrics and the start page, behind middleware that every route shares (request
// ids, access log by route pattern, panic recovery, security headers, metrics).
package server

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/rest"
)

// Server is vakt's HTTP server.
type Server struct {
	API *rest.API
	// Surfaces are further interfaces served beside the REST API (the RIV-TA SOAP endpoints).
	Surfaces []interface{ Register(mux *http.ServeMux) }
	// Ready reports whether the server can serve requests (storage reachable); /readyz calls it.
	Ready func(ctx context.Context) error
	// Registry receives the server's metrics; a new one is made if nil.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Version is shown on the start page and in metrics.
	Version string

	handler  http.Handler
	httpSrv  *http.Server
	listener net.Listener
	metrics  *httpMetrics
}

//go:embed start.html
var startPage []byte

//go:embed start.css
var startCSS []byte

// Handler builds the server's handler; tests may call it without listening.
func (s *Server) Handler() http.Handler {
	if s.handler != nil {
		return s.handler
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.metrics = newHTTPMetrics(s.Registry, s.Version)
	mux := http.NewServeMux()
	s.API.Register(mux)
	for _, sf := range s.Surfaces {
		sf.Register(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.Ready(ctx); err != nil {
				s.Logger.WarnContext(r.Context(), "not ready", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "not ready")
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(startPage)
	})
	mux.HandleFunc("GET /start.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(startCSS)
	})
	s.handler = s.middleware(mux)
	return s.handler
}

// Listen binds addr (":0" picks a free port; see Addr).
func (s *Server) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.listener = l
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Serve serves until ctx ends, then shuts down gracefully: it stops accepting, lets requests in
// flight finish (appends in flight are committed or refused whole) for up to drain, and returns.
func (s *Server) Serve(ctx context.Context, drain time.Duration) error {
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- s.httpSrv.Serve(s.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := s.httpSrv.Shutdown(sctx)
	if errors.Is(<-errc, http.ErrServerClosed) && err == nil {
		return nil
	}
	return err
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware wraps every route. The access log names the route pattern, never the URL, so that
// nothing a client put in a path or query string reaches the logs.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqID := r.Header.Get("X-Request-Id")
		if !validRequestID(reqID) {
			reqID = newRequestID()
		}
		h := w.Header()
		h.Set("X-Request-Id", reqID)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("Cache-Control", "no-store")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		slot := &rest.PrincipalSlot{}
		r = r.WithContext(vakt.WithRequestID(rest.WithPrincipalSlot(r.Context(), slot), reqID))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic serving request", "route", r.Pattern, "panic", fmt.Sprint(v), "request_id", reqID)
				if sw.status == 0 {
					sw.Header().Set("Content-Type", "application/json")
					sw.WriteHeader(http.StatusInternalServerError)
					io.WriteString(sw, `{"code":"internal","message":"internal error"}`+"\n")
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.observe(route, status, d)
			attrs := []slog.Attr{
				slog.String("route", route), slog.Int("status", status),
				slog.Duration("duration", d), slog.Int64("bytes", sw.bytes), slog.String("request_id", reqID),
			}
			if slot.ID != "" {
				attrs = append(attrs, slog.String("credential", slot.ID), slog.String("tenant", slot.TenantID))
			}
			if slot.LogicalAddress != "" {
				attrs = append(attrs, slog.String("logical_address", slot.LogicalAddress))
			}
			s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry, version string) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vakt_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vakt_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vakt_build_info", Help: "Always 1; the version label names the build.", ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(m.requests, m.duration, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *httpMetrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}
