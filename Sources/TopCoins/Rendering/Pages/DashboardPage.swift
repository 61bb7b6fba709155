/// The dashboard as one HTML document, rendered on the server so it works with JavaScript off:
/// the pipeline's state and the latest snapshot's age, a chosen asset's chart (an `<img>` of
/// this server's chart route), the top list with a 24-hour sparkline per row, and the spread
/// monitor's books (current spread, rules, open alerts). It reloads itself every minute; nothing comes from elsewhere,
/// and every text from outside (symbols and names are the upstreams') is escaped.
struct DashboardPage {
    struct Row {
        let rank: Int
        let cmcId: Int64
        let symbol: String
        let name: String
        let price: DecimalNumber
        /// The last 24 hours of stored points; nil when they could not be read (and why).
        let day: Result<[LineChart.Point], APIError>
    }

    /// The chart shown, and the form's current values.
    struct Chart {
        let title: String
        /// A path and query on this server (`/assets/1/chart.svg?...`).
        let source: String
        let asset: String
        let interval: String
        /// The range as asked (the form shows it back as typed).
        let from: String
        let to: String
        let sma: Int?
    }

    let rows: [Row]
    let chart: Chart?
    let readiness: Readiness
    /// The spread monitor's status as last read; nil before the first read.
    let spreads: SpreadStatus?
    let now: Timestamp
    static let refreshSeconds = 60

    static let style = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
        header,main{max-width:1040px;margin:0 auto;padding:0 16px}
        header{padding-top:12px}h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:0 0 8px}
        section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:12px 0}
        table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:middle}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.up{color:#1a7f37}.down{color:#cf222e}
        .state{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600}.ready{background:#dafbe1;color:#1a7f37}
        .not-ready{background:#ffebe9;color:#cf222e}.muted{color:#57606a}form{margin:0 0 8px}form label{margin-right:10px}
        img{max-width:100%;height:auto;border:1px solid #eaeef2}
        """

    var html: String {
        var html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        // No icon to fetch: a browser asks for /favicon.ico otherwise.
        html += "<link rel=\"icon\" href=\"data:,\">"
        html += "<meta http-equiv=\"refresh\" content=\"\(DashboardPage.refreshSeconds)\">"
        html += "<title>TopCoins dashboard</title><style>\(DashboardPage.style)</style></head><body>"
        html += "<header><h1>TopCoins</h1>\(state)</header><main>"
        html += chartSection + topListSection + spreadSection + pipelineSection
        html += "<p class=\"muted\">Reloads every \(DashboardPage.refreshSeconds) s · rendered \(DashboardPage.time(now)) · "
        html += "<a href=\"/docs\">API reference</a> · <a href=\"/openapi.yaml\">OpenAPI document</a></p>"
        return html + "</main></body></html>\n"
    }

    var state: String {
        var html = "<p id=\"state\"><span class=\"state \(readiness.isReady ? "ready" : "not-ready")\">"
        html += readiness.isReady ? "Pipeline ready" : "Pipeline not ready"
        html += "</span> "
        if !readiness.reasons.isEmpty { html += "<span class=\"muted\">(\(SVGText.escaped(readiness.reasons.joined(separator: ", "))))</span> " }
        if let snapshot = readiness.snapshot {
            html +=
                "Latest snapshot <time id=\"snapshot\" datetime=\"\(snapshot.timestamp.iso8601)\">\(DashboardPage.time(snapshot.timestamp))</time>, "
            html += "<span id=\"snapshot-age\">\(DashboardPage.age(snapshot.ageSeconds))</span> old"
        } else {
            html += "No snapshot has been merged yet."
        }
        return html + "</p>"
    }

    var chartSection: String {
        guard let chart else { return "<section id=\"chart\"><h2>Chart</h2><p class=\"muted\">No asset to chart yet.</p></section>" }
        var html = "<section id=\"chart\"><h2>Chart</h2><form method=\"get\" action=\"/dashboard\">"
        html += "<label>Asset <input name=\"asset\" size=\"8\" value=\"\(SVGText.escaped(chart.asset))\"></label>"
        html += "<label>Interval <select name=\"interval\">"
        for interval in SeriesQuery.Interval.allCases {
            html += "<option\(interval.rawValue == chart.interval ? " selected" : "")>\(interval.rawValue)</option>"
        }
        html += "</select></label>"
        html += "<label>From <input name=\"from\" size=\"12\" placeholder=\"2022-01-01\" value=\"\(SVGText.escaped(chart.from))\"></label>"
        html += "<label>To <input name=\"to\" size=\"12\" placeholder=\"now\" value=\"\(SVGText.escaped(chart.to))\"></label>"
        html += "<label>SMA <input name=\"sma\" size=\"4\" value=\"\(chart.sma ?? 0)\"></label><button>Show</button></form>"
        html +=
            "<img id=\"chart-image\" src=\"\(SVGText.escaped(chart.source))\" width=\"960\" height=\"480\" alt=\"\(SVGText.escaped(chart.title))\">"
        return html + "</section>"
    }

    var topListSection: String {
        var html = "<section id=\"top\"><h2>Top \(rows.count) by 24-hour volume</h2>"
        guard !rows.isEmpty else { return html + "<p class=\"muted\">No snapshot has been merged yet.</p></section>" }
        html += "<table id=\"top-list\"><thead><tr><th class=\"num\">#</th><th>Symbol</th><th>Name</th><th class=\"num\">Price USD</th>"
        html += "<th class=\"num\">24 h</th><th>Last 24 hours</th></tr></thead><tbody>"
        for row in rows {
            let symbol = SVGText.escaped(row.symbol)
            html += "<tr data-cmc-id=\"\(row.cmcId)\"><td class=\"num\">\(row.rank)</td>"
            html += "<td><a href=\"/dashboard?asset=\(row.cmcId)\">\(symbol)</a></td><td>\(SVGText.escaped(row.name))</td>"
            html += "<td class=\"num\">\(row.price.text)</td>"
            switch row.day {
            case .success(let points):
                html += "<td class=\"num\">\(DashboardPage.change(points))</td><td>\(Sparkline(points: points).svg)</td>"
            case .failure(let error):
                html += "<td class=\"num\">–</td><td class=\"muted\">\(SVGText.escaped(error.message))</td>"
            }
            html += "</tr>"
        }
        return html + "</tbody></table></section>"
    }

    /// One row per monitored book: its newest spread and flags, its rules, how old that
    /// observation is, and its open alerts.
    var spreadSection: String {
        var html = "<section id=\"spreads\"><h2>Spread monitor</h2>"
        guard let spreads, !spreads.books.isEmpty else {
            return html + "<p class=\"muted\">No spread monitor reports to this server yet.</p></section>"
        }
        html += "<table id=\"spread-books\"><thead><tr><th>Book</th><th class=\"num\">Spread %</th><th>Flags</th><th class=\"num\">Threshold %</th>"
        html += "<th class=\"num\">Clears below %</th><th>Observed</th><th>Open alerts</th></tr></thead><tbody>"
        for (book, rules) in spreads.books.sorted(by: { $0.key < $1.key }) {
            // Stored names are checked as `[a-z0-9_]`; escaped all the same, as every text from outside.
            let name = SVGText.escaped(book)
            html += "<tr data-book=\"\(name)\"><td>\(name)</td>"
            if let latest = spreads.latest[book] {
                html += "<td class=\"num\">\(latest.spreadPct?.text ?? "–")</td><td>\(latest.flags.names.joined(separator: ", "))</td>"
            } else {
                html += "<td class=\"num\">–</td><td></td>"
            }
            html += "<td class=\"num\">\(rules.thresholdPct.text)</td><td class=\"num\">\(rules.clearBelowPct.text)</td><td>"
            if let latest = spreads.latest[book] {
                html += "<span class=\"age\">\(DashboardPage.age(max(0, (now.milliseconds - latest.observedAt.milliseconds) / 1000)))</span> ago"
            } else {
                html += "never"
            }
            html += "</td><td>"
            let open = spreads.openEpisodes.filter { $0.book == book }
            if open.isEmpty { html += "none" }
            for episode in open {
                html += "<div class=\"alert down\" data-alert=\"\(SVGText.escaped(episode.id))\">since \(DashboardPage.time(episode.startedAt)), peak \(episode.peakSpreadPct.text) %</div>"
            }
            html += "</td></tr>"
        }
        html += "</tbody></table><p><a href=\"/spreads/summary?format=csv\">Hourly summary (CSV)</a> · <a href=\"/alerts?state=open\">Open alerts (JSON)</a></p>"
        return html + "</section>"
    }

    var pipelineSection: String {
        var html = "<section id=\"pipeline\"><h2>Pipeline</h2>"
        guard !readiness.components.isEmpty else { return html + "<p class=\"muted\">No component has reported yet.</p></section>" }
        html += "<table><thead><tr><th>Component</th><th>Last success</th><th>Last error</th><th>State</th></tr></thead><tbody>"
        for component in readiness.components {
            let record = component.record
            html += "<tr><td>\(SVGText.escaped(component.name))</td><td>\(record.lastSuccessAt.map(DashboardPage.time) ?? "never")</td><td>"
            if let errorAt = record.lastErrorAt {
                html += "\(DashboardPage.time(errorAt)): \(SVGText.escaped(record.lastErrorReason ?? "")) "
                html += "<span class=\"muted\">\(SVGText.escaped(String((record.lastError ?? "").prefix(200))))</span>"
            } else {
                html += "none"
            }
            html += "</td><td>\(component.stalled ? "<span class=\"down\">stalled</span>" : "<span class=\"up\">running</span>")</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    /// `2026-12-02 06:30:01 UTC`.
    static func time(_ time: Timestamp) -> String {
        let text = time.iso8601
        return "\(text.prefix(10)) \(text.dropFirst(11).prefix(8)) UTC"
    }

    static func age(_ seconds: Int64) -> String {
        switch seconds {
        case ..<120: "\(seconds) s"
        case ..<7200: "\(seconds / 60) min"
        default: "\(seconds / 3600) h"
        }
    }

    /// The change from the first point to the last, in percent with one decimal.
    static func change(_ points: [LineChart.Point]) -> String {
        guard let first = points.first?.value, let last = points.last?.value, first > 0, points.count > 1 else { return "–" }
        let percent = (last / first - 1) * 100
        let rounded = SVGText.coordinate(percent)
        let text = rounded.contains(".") ? rounded : rounded + ".0"
        return percent >= 0.05 ? "<span class=\"up\">+\(text)%</span>" : percent <= -0.05 ? "<span class=\"down\">\(text)%</span>" : "\(text)%"
    }
}
