import Testing

@testable import TopCoins

@Suite("EpisodeTracker: breaches, runs, episodes, cooldown and the stored state")
struct EpisodeTrackerTests {
    static let t0 = Timestamp(milliseconds: 1_764_601_200_000)  // 2025-12-01T15:00:00Z

    static func rules(minConsecutive: Int = 1, cooldownSeconds: Int = 0) -> BookRules {
        BookRules(
            book: "btc_mxn", thresholdPct: DecimalNumber("0.1")!, clearBelowPct: DecimalNumber("0.08")!, minConsecutive: minConsecutive,
            cooldownSeconds: cooldownSeconds, staleAfterSeconds: 60, maxGapSeconds: 60)
    }

    /// The book at second `second` after t0 with ask 100 and the given bid (so the spread is
    /// `100 − bid` percent), fresh unless `stale`.
    static func observation(_ second: Int, bid: String?, ask: String? = "100", stale: Bool = false, rules: BookRules = rules()) -> SpreadObservation {
        let at = t0.adding(milliseconds: Int64(second) * 1000)
        let quote = BookQuote(
            book: "btc_mxn", bid: bid.flatMap { DecimalNumber($0) }, ask: ask.flatMap { DecimalNumber($0) }, sequence: Int64(second),
            updatedAt: stale ? at.adding(milliseconds: -120_000) : at)
        return SpreadObservation(quote: quote, observedAt: at, rules: rules)
    }

    /// Runs the observations through the tracker from no state; the transitions of each step
    /// as `open@s:peak` / `close@s:peak` (the second since t0), and the last state.
    static func run(_ observations: [SpreadObservation], rules: BookRules) -> (steps: [[String]], state: MonitorState?) {
        var state: MonitorState?
        var steps: [[String]] = []
        for (index, observation) in observations.enumerated() {
            guard let step = EpisodeTracker.observe(observation, entryID: "\(observation.observedAt.milliseconds)-\(index)", state: state, rules: rules) else {
                steps.append(["out_of_order"])
                continue
            }
            steps.append(
                step.transitions.map { transition in
                    let episode = transition.episode
                    let second = ((episode.endedAt ?? episode.startedAt).milliseconds - t0.milliseconds) / 1000
                    return "\(episode.state == .open ? "open" : "close")@\(second):\(episode.peakSpreadPct)"
                })
            state = step.state
        }
        return (steps, state)
    }

    /// The issue's sequence: below, above, above, crossed, one-sided, below the clear level, above.
    static func issueSequence(rules: BookRules) -> [SpreadObservation] {
        [
            observation(0, bid: "99.95", rules: rules),  // 0.05 %: below
            observation(10, bid: "99.85", rules: rules),  // 0.15 %: above
            observation(20, bid: "99.8", rules: rules),  // 0.2 %: above
            observation(30, bid: "100.5", rules: rules),  // crossed
            observation(40, bid: nil, rules: rules),  // one-sided
            observation(50, bid: "99.93", rules: rules),  // 0.07 %: below the clear level
            observation(60, bid: "99.88", rules: rules),  // 0.12 %: above
        ]
    }

    @Test("the issue's sequence with min_consecutive 1: open on the first breach, peak 0.2, close below the clear level, open again")
    func issueSequenceOne() {
        let (steps, state) = Self.run(Self.issueSequence(rules: Self.rules()), rules: Self.rules())
        #expect(steps == [[], ["open@10:0.15"], [], [], [], ["close@50:0.2"], ["open@60:0.12"]])
        #expect(state?.run == 1 && state?.open?.startedAt == Self.t0.adding(milliseconds: 60_000) && state?.lastClosedAt == Self.t0.adding(milliseconds: 50_000))
    }

    @Test("min_consecutive 2 opens on the second breach; the crossed and one-sided books neither count nor break the run")
    func issueSequenceTwo() {
        let rules = Self.rules(minConsecutive: 2)
        let (steps, _) = Self.run(Self.issueSequence(rules: rules), rules: rules)
        #expect(steps == [[], [], ["open@20:0.2"], [], [], ["close@50:0.2"], []])
    }

    @Test("min_consecutive 3: the two breaches, then flagged books (no reset), then a non-breach resets; nothing opens")
    func issueSequenceThree() {
        let rules = Self.rules(minConsecutive: 3)
        let (steps, state) = Self.run(Self.issueSequence(rules: rules), rules: rules)
        #expect(steps == [[], [], [], [], [], [], []])
        #expect(state?.run == 1 && state?.open == nil)
        // Flagged books between breaches do not break the run: the third breach opens.
        let bridged = [
            Self.observation(0, bid: "99.85", rules: rules), Self.observation(10, bid: "100.5", rules: rules), Self.observation(20, bid: "99.8", rules: rules),
            Self.observation(30, bid: "99.7", stale: true, rules: rules), Self.observation(40, bid: "99.89", rules: rules),
        ]
        #expect(Self.run(bridged, rules: rules).steps == [[], [], [], [], ["open@40:0.11"]])
    }

    @Test("cooldown_seconds keeps a breach within it of the last close from opening; the first breach after it opens")
    func cooldown() {
        let rules = Self.rules(cooldownSeconds: 30)
        let sequence = [
            Self.observation(0, bid: "99.85", rules: rules),  // open
            Self.observation(10, bid: "99.95", rules: rules),  // close at 10
            Self.observation(20, bid: "99.8", rules: rules),  // 10 s after: cooldown
            Self.observation(39, bid: "99.8", rules: rules),  // 29 s after: cooldown
            Self.observation(40, bid: "99.8", rules: rules),  // 30 s after: opens
        ]
        #expect(Self.run(sequence, rules: rules).steps == [["open@0:0.15"], ["close@10:0.15"], [], [], ["open@40:0.2"]])
        // Without the cooldown the breach right after the close opens.
        #expect(Self.run(sequence, rules: Self.rules()).steps == [["open@0:0.15"], ["close@10:0.15"], ["open@20:0.2"], [], []])
    }

    @Test("a spread between the clear level and the threshold keeps an episode open (and opens none); exactly the clear level does not close")
    func hysteresis() {
        let sequence = [
            Self.observation(0, bid: "99.95"),  // 0.05: nothing
            Self.observation(10, bid: "99.91"),  // 0.09: between, nothing opens
            Self.observation(20, bid: "99.7"),  // 0.3: open
            Self.observation(30, bid: "99.91"),  // 0.09: stays open
            Self.observation(40, bid: "99.9"),  // 0.1: not a breach, stays open
            Self.observation(50, bid: "99.92"),  // 0.08: not below 0.08, stays open
            Self.observation(60, bid: "99.920001"),  // 0.079999: closes
        ]
        #expect(Self.run(sequence, rules: Self.rules()).steps == [[], [], ["open@20:0.3"], [], [], [], ["close@60:0.3"]])
    }

    @Test("the peak is the widest unflagged spread while open; a wider stale book does not count")
    func peak() {
        var state: MonitorState?
        var changed: [String?] = []
        for observation in [
            Self.observation(0, bid: "99.85"), Self.observation(10, bid: "99.5", stale: true), Self.observation(20, bid: "99.75"),
            Self.observation(30, bid: "99.8"), Self.observation(40, bid: "99.95"),
        ] {
            let step = EpisodeTracker.observe(observation, entryID: "1-0", state: state, rules: Self.rules())!
            changed.append(step.changed.map { "\($0.state.rawValue):\($0.peakSpreadPct)" })
            state = step.state
        }
        #expect(changed == ["open:0.15", nil, "open:0.25", nil, "closed:0.25"])
    }

    @Test("an observation at or before the book's last one is out of order and changes nothing")
    func outOfOrder() {
        let sequence = [Self.observation(10, bid: "99.85"), Self.observation(10, bid: "99.95"), Self.observation(5, bid: "99.95"), Self.observation(11, bid: "99.95")]
        #expect(Self.run(sequence, rules: Self.rules()).steps == [["open@10:0.15"], ["out_of_order"], ["out_of_order"], ["close@11:0.15"]])
    }

    @Test("the state's text reads back equal, and damaged text is refused")
    func stateText() throws {
        let open = MonitorState(
            lastEntryID: "1764601200000-3", lastObservedAt: Self.t0, run: 4,
            open: .init(startedAt: Self.t0.adding(milliseconds: -30_000), thresholdPct: DecimalNumber("0.1")!, peakSpreadPct: DecimalNumber("0.25")!),
            lastClosedAt: Self.t0.adding(milliseconds: -90_000))
        #expect(open.text == "v1|1764601200000-3|1764601200000|4|1764601170000|0.1|0.25|1764601110000")
        #expect(try MonitorState(text: open.text) == open)
        let fresh = MonitorState(lastEntryID: "5-0", lastObservedAt: Self.t0, run: 0, open: nil, lastClosedAt: nil)
        #expect(try MonitorState(text: fresh.text) == fresh)
        for damaged in ["", "v2|5-0|1764601200000|0||||", "v1|5|1764601200000|0||||", "v1|5-0|x|0||||", "v1|5-0|1764601200000|-1||||", "v1|5-0|1764601200000|0|1|||"] {
            #expect(throws: SpreadStoreError.self) { try MonitorState(text: damaged) }
        }
    }

    @Test("the alert message carries every field, ended_at empty while open")
    func alertMessage() {
        let opened = EpisodeTracker.observe(Self.observation(10, bid: "99.85"), entryID: "1-0", state: nil, rules: Self.rules())!
        let fields = AlertMessage.fields(of: opened.transitions[0], observation: Self.observation(10, bid: "99.85"))
        #expect(fields.map(\.0) == ["id", "book", "state", "spread_pct", "threshold_pct", "started_at", "ended_at", "peak_spread_pct", "observed_at"])
        #expect(fields.map(\.1) == ["btc_mxn-1764601210000", "btc_mxn", "open", "0.15", "0.1", "2025-12-01T15:00:10.000Z", "", "0.15", "2025-12-01T15:00:10.000Z"])
        let counters = MonitorCounters.of(Self.observation(10, bid: "99.85"), step: opened)
        #expect(counters.map(\.0) == ["observations", "breaches", "episodes"])
        let crossed = Self.observation(20, bid: "101", stale: true)
        let flagged = EpisodeTracker.observe(crossed, entryID: "2-0", state: opened.state, rules: Self.rules())!
        #expect(MonitorCounters.of(crossed, step: flagged).map(\.0) == ["observations", "flagged_crossed", "flagged_stale"])
    }
}

@Suite("SpreadMonitorConfig: defaults, per-book overrides and errors that name the key")
struct SpreadMonitorConfigTests {
    static let file = "spread-monitor.json"

    func read(_ text: String, environment: [String: String] = [:]) throws(ConfigError) -> SpreadMonitorConfig {
        try SpreadMonitorConfig(reading: try ConfigObject.parse(file: Self.file, bytes: Array(text.utf8), environment: environment))
    }

    func error(_ text: String, environment: [String: String] = [:]) -> ConfigError? {
        do throws(ConfigError) {
            _ = try read(text, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test("the shipped config reads with the issue's defaults")
    func shipped() throws {
        let path = PackagePaths.file("Config/spread-monitor.json")
        let bytes = try #require(ConfigFile.readFile(path))
        let config = try SpreadMonitorConfig(reading: try ConfigObject.parse(file: path, bytes: bytes, environment: [:]))
        #expect(config.books.keys.sorted() == ["btc_mxn", "usd_mxn"])
        #expect(config.books["usd_mxn"] == BookRules.defaults(for: "usd_mxn"))
        #expect(config.stream == "topcoins:books" && config.group == "spread-monitor" && config.retentionDays == 30)
        #expect(config.alertStream == "topcoins:alerts" && config.alertStreamLength == 10_000 && config.webhook == nil)
    }

    @Test("a book's object overrides the defaults, which override the built-in ones")
    func overrides() throws {
        let config = try read(#"{"defaults": {"threshold_pct": 0.2, "min_consecutive": 2}, "books": {"btc_mxn": {"threshold_pct": 0.5}, "usd_mxn": {}}}"#)
        #expect(config.books["btc_mxn"]?.thresholdPct.text == "0.5" && config.books["btc_mxn"]?.minConsecutive == 2)
        #expect(config.books["usd_mxn"]?.thresholdPct.text == "0.2" && config.books["usd_mxn"]?.clearBelowPct.text == "0.08")
        #expect(config.books["usd_mxn"]?.book == "usd_mxn")
    }

    @Test("mistakes name the file and the key")
    func errors() {
        let cases: [(String, String)] = [
            (#"{}"#, "books"),
            (#"{"books": {}}"#, "books"),
            (#"{"books": {"BTC/MXN": {}}}"#, "books.BTC/MXN"),
            (#"{"books": {"btc_mxn": {"threshold": 1}}}"#, "books.btc_mxn.threshold"),
            (#"{"books": {"btc_mxn": {"clear_below_pct": 0.2}}}"#, "books.btc_mxn.clear_below_pct"),
            (#"{"defaults": {"min_consecutive": 0}, "books": {"btc_mxn": {}}}"#, "defaults.min_consecutive"),
            (#"{"books": {"btc_mxn": {}}, "retention_days": 0}"#, "retention_days"),
            (#"{"books": {"btc_mxn": {}}, "alerts": {"stream": 5}}"#, "alerts.stream"),
            (#"{"books": {"btc_mxn": {}}, "alerts": {"webhook": {"url": "ftp://x"}}}"#, "alerts.webhook.url"),
            (#"{"books": {"btc_mxn": {}}, "alerts": {"webhook": {"url": "https://x.test", "headers": {"Authorization": "Bearer ${ALERT_WEBHOOK_TOKEN}"}}}}"#, "alerts.webhook.headers.Authorization"),
            (#"{"books": {"btc_mxn": {}}, "alerts": {"webhook": {"url": "https://x.test", "headers": {"Idempotency-Key": "x"}}}}"#, "alerts.webhook.headers.Idempotency-Key"),
            (#"{"books": {"btc_mxn": {}}, "stream": {"name": "x"}}"#, "stream.name"),
            (#"{"books": {"btc_mxn": {}}, "extra": 1}"#, "extra"),
        ]
        for (text, key) in cases {
            let error = error(text)
            #expect(error?.keyPath == key, "\(text)")
            #expect(error?.file == Self.file)
        }
    }

    @Test("the webhook's header values come from the environment and are secrets")
    func webhookSecrets() throws {
        let config = try read(
            #"{"books": {"btc_mxn": {}}, "alerts": {"webhook": {"url": "https://hooks.test/alerts", "headers": {"Authorization": "Bearer ${ALERT_WEBHOOK_TOKEN}"}, "timeout_seconds": 3}}}"#,
            environment: ["ALERT_WEBHOOK_TOKEN": "s3cret-token"])
        #expect(config.webhook?.headers.map { "\($0.0)=\($0.1)" } == ["Authorization=Bearer s3cret-token"])
        #expect(config.webhook?.timeoutSeconds == 3 && config.webhook?.group == "webhook")
        #expect(config.secrets == ["s3cret-token"])
    }
}
