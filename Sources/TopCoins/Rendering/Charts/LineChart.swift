/// A price chart as one self-contained SVG document: title and subtitle, a legend, a dated x
/// axis over the range asked (UTC, ticks chosen for its span) and a price y axis with round
/// ticks, and one polyline per line whose vertices are the line's points, one each, counted
/// in its `data-points` attribute. Nothing is fetched from elsewhere (no fonts, styles or
/// scripts), every text from outside is escaped, and coordinates carry one decimal.
public struct LineChart: Sendable {
    public struct Point: Sendable, Equatable {
        public let time: Timestamp
        public let value: Double

        public init(time: Timestamp, value: Double) {
            self.time = time
            self.value = value
        }
    }

    public struct Line: Sendable {
        /// The legend's text.
        public let label: String
        /// The polyline's class (`price`, `sma`), which tests and stylesheets may select.
        public let role: String
        public let color: String
        public let strokeWidth: Double
        public let points: [Point]

        public init(label: String, role: String, color: String, strokeWidth: Double = 2, points: [Point]) {
            self.label = label
            self.role = role
            self.color = color
            self.strokeWidth = strokeWidth
            self.points = points
        }
    }

    public let title: String
    public let subtitle: String
    /// The x axis spans this range, whatever part of it the lines cover.
    public let from: Timestamp
    public let to: Timestamp
    /// Drawn in order; the first is the one the chart is about (its count is the chart's
    /// `data-points`).
    public let lines: [Line]
    public var width = 960
    public var height = 480
    /// Shown across the plot when no line has a point.
    public var emptyText = "No data in this range"

    public init(title: String, subtitle: String, from: Timestamp, to: Timestamp, lines: [Line]) {
        self.title = title
        self.subtitle = subtitle
        self.from = from
        self.to = to
        self.lines = lines
    }

    public var svg: String {
        let values = lines.flatMap { $0.points.map(\.value) }.filter(\.isFinite)
        let priceTicks = values.isEmpty ? [] : ChartTicks.price(low: values.min()!, high: values.max()!)
        let labels = priceTicks.map { "$" + $0.label }
        let left = 24 + 7.5 * Double(labels.map(\.count).max() ?? 4)
        let (right, top, bottom) = (Double(width) - 24, 76.0, Double(height) - 48)
        let span = Double(max(to.milliseconds - from.milliseconds, 60_000))
        func x(_ time: Timestamp) -> Double { left + Double(time.milliseconds - from.milliseconds) / span * (right - left) }
        let (low, high) = (priceTicks.first?.value ?? 0, priceTicks.last?.value ?? 1)
        func y(_ value: Double) -> Double { bottom - (value - low) / (high - low) * (bottom - top) }
        let c = SVGText.coordinate

        var svg =
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)" role="img""##
        svg +=
            ##" aria-label="\##(SVGText.escaped(title))" data-points="\##(lines.first?.points.count ?? 0)" font-family="system-ui, sans-serif" font-size="12">"##
        svg += "<title>\(SVGText.escaped(title)): \(SVGText.escaped(subtitle))</title>"
        svg += ##"<rect width="100%" height="100%" fill="#ffffff"/>"##
        svg += ##"<text x="24" y="30" font-size="18" font-weight="600" fill="#1b1f24">\##(SVGText.escaped(title))</text>"##
        svg += ##"<text x="24" y="52" font-size="13" fill="#57606a">\##(SVGText.escaped(subtitle))</text>"##
        // The legend, right-aligned on the subtitle's line (text about 7.5 px a character).
        var legendEnd = right
        for line in lines.reversed() {
            let start = legendEnd - 7.5 * Double(line.label.count)
            svg += ##"<text x="\##(c(start))" y="52" font-size="13" fill="#1b1f24">\##(SVGText.escaped(line.label))</text>"##
            svg +=
                ##"<line x1="\##(c(start - 26))" y1="48" x2="\##(c(start - 6))" y2="48" stroke="\##(line.color)" stroke-width="\##(c(line.strokeWidth + 1))"/>"##
            legendEnd = start - 42
        }
        // Price grid and labels.
        for (tick, label) in zip(priceTicks, labels) {
            let position = c(y(tick.value))
            svg += ##"<line x1="\##(c(left))" y1="\##(position)" x2="\##(c(right))" y2="\##(position)" stroke="#e1e4e8"/>"##
            svg += ##"<text x="\##(c(left - 8))" y="\##(position)" dy="4" text-anchor="end" fill="#57606a">\##(label)</text>"##
        }
        // Time grid and labels.
        for tick in ChartTicks.time(from: from, to: to, maxTicks: max(2, Int((right - left) / 110))) {
            let position = c(x(tick.time))
            svg += ##"<line x1="\##(position)" y1="\##(c(top))" x2="\##(position)" y2="\##(c(bottom))" stroke="#eef0f2"/>"##
            for (index, text) in tick.lines.enumerated() {
                svg += ##"<text x="\##(position)" y="\##(c(bottom + 18 + 15 * Double(index)))" text-anchor="middle" fill="#57606a">\##(text)</text>"##
            }
        }
        svg += ##"<rect x="\##(c(left))" y="\##(c(top))" width="\##(c(right - left))" height="\##(c(bottom - top))" fill="none" stroke="#d0d7de"/>"##
        if values.isEmpty {
            svg += ##"<text x="\##(c((left + right) / 2))" y="\##(c((top + bottom) / 2))" text-anchor="middle" font-size="20" fill="#57606a">"##
            svg += "\(SVGText.escaped(emptyText))</text>"
        }
        for line in lines where !line.points.isEmpty {
            var vertices = ""
            vertices.reserveCapacity(line.points.count * 13)
            for (index, point) in line.points.enumerated() {
                if index > 0 { vertices += " " }
                vertices += c(x(point.time)) + "," + c(y(point.value))
            }
            svg += ##"<polyline class="\##(line.role)" data-points="\##(line.points.count)" fill="none" stroke="\##(line.color)""##
            svg += ##" stroke-width="\##(c(line.strokeWidth))" stroke-linejoin="round" points="\##(vertices)"/>"##
            if line.points.count == 1 {
                svg += ##"<circle cx="\##(c(x(line.points[0].time)))" cy="\##(c(y(line.points[0].value)))" r="3" fill="\##(line.color)"/>"##
            }
        }
        return svg + "</svg>\n"
    }
}
