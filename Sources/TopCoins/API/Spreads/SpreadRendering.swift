/// The JSON and CSV shapes of the spread routes (see oas.yaml): every price and spread with
/// its stored digits, a missing one `null` in JSON and an empty cell in CSV.
enum SpreadRendering {
    static let observationsCSVHeader = "observed_at,book,bid,ask,spread_pct,flags,sequence,updated_at\r\n"
    static let summaryCSVHeader =
        "start,book,samples,breaches,breach_share,max_spread_pct,p95_spread_pct,seconds_above,episodes,flagged_crossed,flagged_one_sided,flagged_stale\r\n"
    static let alertsCSVHeader = "id,book,state,threshold_pct,started_at,ended_at,peak_spread_pct\r\n"

    static func number(_ value: DecimalNumber?) -> JSONValue { value.map { .number($0.text) } ?? .null }

    static func json(_ observation: SpreadObservation) -> JSONValue {
        .object(
            JSONObject([
                ("observed_at", .string(observation.observedAt.iso8601)), ("book", .string(observation.book)), ("bid", number(observation.bid)),
                ("ask", number(observation.ask)), ("spread_pct", number(observation.spreadPct)), ("flags", .array(observation.flags.names.map { .string($0) })),
                ("sequence", .number(String(observation.sequence))), ("updated_at", .string(observation.updatedAt.iso8601)),
            ]))
    }

    /// Book names and flag names are `[a-z0-9_]`, times and numbers plain: no field needs quoting.
    static func csvLine(_ observation: SpreadObservation) -> String {
        let o = observation
        return "\(o.observedAt.iso8601),\(o.book),\(o.bid?.text ?? ""),\(o.ask?.text ?? ""),\(o.spreadPct?.text ?? ""),"
            + "\(o.flags.names.joined(separator: ";")),\(o.sequence),\(o.updatedAt.iso8601)\r\n"
    }

    /// A summary element: `SpreadSummary.json`, with the book after `start` when the answer
    /// holds every book.
    static func json(_ summary: SpreadSummary, book: String?) -> JSONValue {
        guard let book, case .object(let object) = summary.json else { return summary.json }
        var members = Array(object.members)
        members.insert(("book", .string(book)), at: 1)
        return .object(JSONObject(members))
    }

    static func csvLine(_ summary: SpreadSummary, book: String) -> String {
        let flags = SpreadFlags.named.map { String(summary.flagged[$0.1] ?? 0) }.joined(separator: ",")
        let above = ExactDecimal.number(Int128(summary.millisecondsAbove), scale: 3).text
        return "\(summary.start.iso8601),\(book),\(summary.samples),\(summary.breaches),\(summary.breachShare.text),"
            + "\(summary.maxSpreadPct?.text ?? ""),\(summary.p95SpreadPct?.text ?? ""),\(above),\(summary.episodes),\(flags)\r\n"
    }

    static func csvLine(_ episode: AlertEpisode) -> String {
        "\(episode.id),\(episode.book),\(episode.state.rawValue),\(episode.thresholdPct.text),\(episode.startedAt.iso8601),"
            + "\(episode.endedAt?.iso8601 ?? ""),\(episode.peakSpreadPct.text)\r\n"
    }
}
