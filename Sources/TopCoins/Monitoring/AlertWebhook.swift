import Logging
import ServiceLifecycle

/// Delivers every `topcoins:alerts` message to the configured webhook, at least once and in
/// order, through its own consumer group, Redis connection and task: a slow or dead
/// receiver holds up deliveries, never observations.
///
/// One POST per message: the message's fields as a JSON object, the config's headers,
/// `Content-Type: application/json` and `Idempotency-Key: <id>:<state>` (the same on every
/// retry, so a receiver can drop repeats). A 2xx acknowledges the message; anything else
/// (status or transport failure) is retried after 1 s, doubling to 60 s, with jitter. A
/// message read but not acknowledged when the process dies is pending, and delivered again
/// first after a restart.
public final class AlertWebhook: Service, Sendable {
    let config: AlertWebhookConfig
    let stream: String
    let consumer: String
    let redis: RedisClient
    let http: HTTPClient
    let status: PipelineStatus
    let logger: Logger

    public init(config: AlertWebhookConfig, stream: String, consumer: String, redisEndpoint: RedisEndpoint, logger: Logger) {
        self.config = config
        self.stream = stream
        self.consumer = consumer
        self.logger = logger
        redis = RedisClient(endpoint: redisEndpoint)
        http = HTTPClient(threads: 1)
        status = PipelineStatus(redis: redis, component: "alert-webhook")
    }

    public func shutdown() async {
        await redis.shutdown()
        try? await http.shutdown()
    }

    public func run() async throws {
        logger.info("alert webhook started", metadata: ["stream": "\(stream)", "group": "\(config.group)", "url": "\(KeyValueLogHandler.redacted(config.url))"])
        await cancelWhenGracefulShutdown {
            var backoff = StartOverBackoff()
            while !Task.isCancelled {
                do throws(RedisError) {
                    try await self.redis.xgroupCreate(self.stream, group: self.config.group, startingAt: "0")
                    backoff.reset()
                    try await self.deliverPending()
                    try await self.follow()
                } catch {
                    if Task.isCancelled { break }
                    self.logger.error(
                        "alert webhook lost Redis, starting over", metadata: ["reason": "\(error.reason)", "error": "\(error)", "retry_in_s": "\(String(format3: backoff.seconds))"])
                    await backoff.wait()
                }
            }
        }
        logger.info("alert webhook stopped")
    }

    /// What this consumer read before and never acknowledged, oldest first, then what a dead
    /// consumer (a container's old host name) left pending.
    func deliverPending() async throws(RedisError) {
        var after = "0"
        while !Task.isCancelled {
            let entries = try await redis.xreadgroup(group: config.group, consumer: consumer, count: 100, blockMilliseconds: nil, streams: [(stream, after)])
                .first?.entries ?? []
            guard let last = entries.last else { break }
            for entry in entries { try await deliver(entry) }
            after = last.id
        }
        try await deliverAbandoned()
    }

    func deliverAbandoned() async throws(RedisError) {
        let claimed = try await redis.xautoclaim(stream, group: config.group, consumer: consumer, minIdleMilliseconds: SpreadMonitor.claimIdleMilliseconds)
        for entry in claimed.entries { try await deliver(entry) }
    }

    func follow() async throws(RedisError) {
        var lastClaim = ContinuousClock.now
        while !Task.isCancelled {
            let entries: [StreamEntry]
            do {
                entries = try await redis.xreadgroup(group: config.group, consumer: consumer, count: 10, blockMilliseconds: 1000, streams: [(stream, ">")])
                    .first?.entries ?? []
            } catch let error where error.serverCode == "NOGROUP" || error.serverCode == "UNBLOCKED" {
                logger.warning("webhook consumer group missing, recreating it", metadata: ["error": "\(error)"])
                throw error
            }
            for entry in entries { try await deliver(entry) }
            if lastClaim.duration(to: .now) > .seconds(10) {
                try await deliverAbandoned()
                lastClaim = .now
            }
        }
    }

    /// POSTs `entry` until the receiver takes it (or the task is cancelled), then acknowledges it.
    func deliver(_ entry: StreamEntry) async throws(RedisError) {
        let request = request(for: entry)
        var delay = 1.0
        var attempt = 1
        var started = ContinuousClock.now
        while !Task.isCancelled {
            started = .now
            let outcome: String
            do {
                let response = try await http.send(request)
                guard !(200..<300).contains(response.status) else { break }
                outcome = "HTTP \(response.status)"
            } catch {
                if Task.isCancelled { return }
                outcome = "\(error)"
            }
            let wait = delay * Double.random(in: 0.5...1.0)
            logger.warning(
                "alert delivery failed, retrying",
                metadata: ["entry": "\(entry.id)", "key": "\(idempotencyKey(entry))", "attempt": "\(attempt)", "error": "\(outcome)", "retry_in_s": "\(String(format3: wait))"])
            try await status.recordFailure(at: .now, reason: "webhook_failed", message: "alert \(idempotencyKey(entry)): \(outcome)")
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
            delay = min(delay * 2, 60)
            attempt += 1
        }
        guard !Task.isCancelled else { return }
        try await acknowledge(entry, attempt: attempt, duration: started.duration(to: .now))
    }

    func acknowledge(_ entry: StreamEntry, attempt: Int, duration: Duration) async throws(RedisError) {
        try await redis.xack(stream, group: config.group, ids: [entry.id])
        try await status.recordSuccess(at: .now, duration: duration, figures: ["records_kept": 1])
        logger.info("alert delivered", metadata: ["entry": "\(entry.id)", "key": "\(idempotencyKey(entry))", "attempt": "\(attempt)"])
    }

    /// `<id>:<state>`: one per transition, the same on every retry.
    func idempotencyKey(_ entry: StreamEntry) -> String {
        "\(entry.text("id") ?? entry.id):\(entry.text("state") ?? "")"
    }

    func request(for entry: StreamEntry) -> HTTPRequest {
        let body = JSONValue.object(JSONObject(entry.fields.map { ($0.name, JSONValue.string(String(decoding: $0.value, as: UTF8.self))) }))
        return HTTPRequest(
            method: "POST", url: config.url,
            headers: config.headers + [("Content-Type", "application/json"), ("Idempotency-Key", idempotencyKey(entry))],
            body: JSONWriter.encode(body), connectTimeoutSeconds: min(config.timeoutSeconds, 10), timeoutSeconds: config.timeoutSeconds)
    }
}
