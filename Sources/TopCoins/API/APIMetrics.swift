import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// The API's Prometheus metrics: request counts and latency by matched route (the template,
/// see `RouteMetricsMiddleware`) and status through swift-metrics, plus gauges of the served
/// snapshot, of the pipeline status read from Redis, and of the spread monitor (its status as
/// `SpreadStatusFollower` last read it).
public final class APIMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let requestMetrics = Mutex<[RequestKey: (counter: CoreMetrics.Counter, timer: CoreMetrics.Timer)]>([:])

    struct RequestKey: Hashable {
        let route: String
        let status: Int
    }

    /// The label of requests the router matched to no route: unknown paths, and methods the
    /// API does not have (the router matches method and path together).
    static let unmatched = "unmatched"

    /// The route label from the router's `endpointPath`: a route template (`/`,
    /// `/assets/{id}`) always starts with `/`; the router names its own 404 `NotFound`, and a
    /// 405 answered before routing leaves it nil.
    static func route(matched endpointPath: String?) -> String {
        guard let endpointPath, endpointPath.hasPrefix("/") else { return unmatched }
        return endpointPath
    }

    /// Bootstraps swift-metrics with a Prometheus registry; call once per process.
    public static func bootstrap() -> APIMetrics {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return APIMetrics(registry: registry)
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func record(route: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, status: status)
        let metrics = requestMetrics.withLock { cache in
            if let existing = cache[key] { return existing }
            let created = (
                CoreMetrics.Counter(label: "topcoins_http_requests_total", dimensions: [("route", key.route), ("status", String(status))]),
                CoreMetrics.Timer(label: "topcoins_http_request_duration_seconds", dimensions: [("route", key.route)], preferredDisplayUnit: .seconds)
            )
            cache[key] = created
            return created
        }
        metrics.counter.increment()
        metrics.timer.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The exposition text: the registry's metrics, then the snapshot, pipeline and spread
    /// gauges and the spread monitor's counters.
    func render(latest: RenderedSnapshot?, redisReachable: Bool, pipeline: [String: PipelineStatus.Record], spreads: SpreadStatus?, now: Timestamp) -> [UInt8] {
        var text = registry.emitToString()
        func gauge(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)], type: String = "gauge") {
            guard !samples.isEmpty else { return }
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let labels = sample.labels.map { "\($0.0)=\"\(APIMetrics.escape($0.1))\"" }.joined(separator: ",")
                text += labels.isEmpty ? "\(name) \(sample.value)\n" : "\(name){\(labels)} \(sample.value)\n"
            }
        }
        gauge("topcoins_redis_up", "1 when the API's last Redis call succeeded.", [([], redisReachable ? "1" : "0")])
        if let latest {
            gauge("topcoins_snapshot_timestamp_seconds", "Timestamp of the latest snapshot served.", [([], String(latest.timestamp.seconds))])
            gauge("topcoins_snapshot_age_seconds", "Age of the latest snapshot served.", [([], String(Double(now.milliseconds - latest.timestamp.milliseconds) / 1000))])
            gauge("topcoins_snapshot_rows", "Rows in the latest snapshot.", [([], String(latest.total))])
        }
        var lastSuccess: [([(String, String)], String)] = []
        var lastError: [([(String, String)], String)] = []
        var cycles: [([(String, String)], String)] = []
        var failures: [([(String, String)], String)] = []
        var figures: [([(String, String)], String)] = []
        var durations: [([(String, String)], String)] = []
        for (component, record) in pipeline.sorted(by: { $0.key < $1.key }) {
            let label = ("component", component)
            if let time = record.lastSuccessAt { lastSuccess.append(([label], String(time.seconds))) }
            if let time = record.lastErrorAt { lastError.append(([label, ("reason", record.lastErrorReason ?? "")], String(time.seconds))) }
            if let milliseconds = record.lastDurationMilliseconds { durations.append(([label], String(Double(milliseconds) / 1000))) }
            if let count = record.cyclesFailed { cycles.append(([label, ("outcome", "failed")], String(count))) }
            if let count = record.cyclesOK { cycles.append(([label, ("outcome", "ok")], String(count))) }
            for (reason, count) in record.failures.sorted(by: { $0.key < $1.key }) { failures.append(([label, ("reason", reason)], String(count))) }
            for (figure, count) in record.figures.sorted(by: { $0.key < $1.key }) { figures.append(([label, ("figure", figure)], String(count))) }
        }
        gauge("topcoins_pipeline_last_success_timestamp_seconds", "When each component last succeeded.", lastSuccess)
        gauge("topcoins_pipeline_last_error_timestamp_seconds", "When each component last failed, with the reason.", lastError)
        gauge("topcoins_pipeline_last_duration_seconds", "How long each component's last successful step took.", durations)
        gauge("topcoins_pipeline_cycles", "Steps (fetch cycles, merges) by outcome since Redis was last emptied.", cycles)
        gauge("topcoins_pipeline_failures", "Failed steps by reason since Redis was last emptied.", failures)
        gauge("topcoins_pipeline_last_figures", "The last step's figures: records kept, skipped by reason, rows, rows left out by reason.", figures)
        if let spreads { APIMetrics.spreadSamples(spreads).forEach { gauge($0.name, $0.help, $0.samples, type: $0.type) } }
        return Array(text.utf8)
    }

    /// The spread monitor's families: the newest unflagged spread per book, and its counters
    /// (`<book>:<counter>` in `SpreadStore.counters()`), which only grow until Redis is emptied.
    static func spreadSamples(_ spreads: SpreadStatus) -> [(name: String, help: String, type: String, samples: [(labels: [(String, String)], value: String)])] {
        let books = spreads.books.keys.sorted()
        let spread = books.compactMap { book -> ([(String, String)], String)? in
            guard let latest = spreads.latest[book], latest.flags.isEmpty, let pct = latest.spreadPct else { return nil }
            return ([("book", book)], pct.text)
        }
        func counter(_ name: String) -> [([(String, String)], String)] {
            books.compactMap { book in spreads.counters["\(book):\(name)"].map { ([("book", book)], String($0)) } }
        }
        let flagged = books.flatMap { book in
            SpreadFlags.named.compactMap { _, flag in spreads.counters["\(book):flagged_\(flag)"].map { ([("book", book), ("flag", flag)], String($0)) } }
        }
        return [
            ("topcoins_spread_pct", "The newest unflagged spread of each monitored book, in percent.", "gauge", spread),
            ("topcoins_spread_observations_total", "Observations made of each book.", "counter", counter("observations")),
            ("topcoins_spread_breaches_total", "Observations above the book's threshold.", "counter", counter("breaches")),
            ("topcoins_spread_episodes_total", "Alert episodes opened for each book.", "counter", counter("episodes")),
            ("topcoins_spread_flagged_total", "Flagged observations (crossed, one-sided, stale) of each book.", "counter", flagged),
        ]
    }

    static func escape(_ value: String) -> String {
        value.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"").replacingAll("\n", with: "\\n")
    }
}
