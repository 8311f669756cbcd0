"""Operations: liveness and readiness probes, Prometheus metrics and the broker probes behind them."""
