/// A word-sized chart for a table row: the price's path over a range, scaled to its own
/// minimum and maximum, green when it ended at or above where it started and red otherwise.
/// Inline SVG, one vertex per point (`data-points`), no axes.
public struct Sparkline: Sendable {
    public let points: [LineChart.Point]
    public var width = 120
    public var height = 28

    public init(points: [LineChart.Point]) {
        self.points = points
    }

    public var svg: String {
        let values = points.map(\.value)
        var svg =
            ##"<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)""##
        svg += ##" data-points="\##(points.count)" role="img" aria-label="\##(points.count) prices">"##
        guard let first = points.first, let last = points.last, let low = values.min(), let high = values.max(), low.isFinite, high.isFinite else {
            return svg + ##"<text x="2" y="18" font-size="11" fill="#8c959f">no data</text></svg>"##
        }
        let span = Double(max(last.time.milliseconds - first.time.milliseconds, 1))
        let range = high > low ? high - low : 1
        let inset = 2.0
        var vertices = ""
        vertices.reserveCapacity(points.count * 10)
        for (index, point) in points.enumerated() {
            if index > 0 { vertices += " " }
            let x = inset + Double(point.time.milliseconds - first.time.milliseconds) / span * (Double(width) - 2 * inset)
            let y = Double(height) - inset - (high > low ? (point.value - low) / range : 0.5) * (Double(height) - 2 * inset)
            vertices += SVGText.coordinate(x) + "," + SVGText.coordinate(y)
        }
        let color = last.value >= first.value ? "#1a7f37" : "#cf222e"
        return svg + ##"<polyline fill="none" stroke="\##(color)" stroke-width="1.5" points="\##(vertices)"/></svg>"##
    }
}
