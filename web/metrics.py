"""Prometheus metrics, in a registry of the app's own (so tests can run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "enclave_http_requests", "HTTP requests served", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "enclave_http_request_seconds", "Time to answer an HTTP request", ["method", "route"], registry=self.registry
        )
        self.time_to_first_token = Histogram(
            "enclave_time_to_first_token_seconds",
            "From the model's turn starting to the checked answer's first token (drafts are not streamed)",
            buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.tokens = Counter(
            "enclave_tokens_generated", "Tokens the model wrote for answers' drafts", registry=self.registry
        )
        self.answers = Counter("enclave_answers", "Answers given", ["outcome"], registry=self.registry)
        self.queue_depth = Gauge("enclave_queue_depth", "Questions waiting for the model", registry=self.registry)
        self.documents = Gauge("enclave_documents", "Documents indexed", registry=self.registry)
        self.chunks = Gauge("enclave_chunks", "Chunks in the vector store", registry=self.registry)
        self.connector_last_sync = Gauge(
            "enclave_connector_last_sync",
            "1 for the status of each connector's latest sync (succeeded, warning, failed, deferred, running)",
            ["connector", "status"],
            registry=self.registry,
        )
        self.egress_refused = Gauge(
            "enclave_egress_refused", "Connections the egress guard refused since the process started", registry=self.registry
        )
