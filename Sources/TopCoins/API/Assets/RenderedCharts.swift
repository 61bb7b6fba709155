import NIOCore
import Synchronization

/// Charts already drawn, by what draws them: the asset and its name, the interval, the SMA
/// window, the range's ends as the chart shows them, and the asset library's generation (its
/// last reload: span and candle counters only move then, so a chart of the same key drawn in
/// the same generation is the same chart). A new generation empties the cache; it holds at
/// most `limit` charts.
final class RenderedCharts: Sendable {
    struct Key: Hashable {
        let cmcId: Int64
        let names: String
        let width: Int64
        let sma: Int
        let from: Int64
        let to: Int64
    }

    struct Chart: Sendable {
        let etag: String
        let lastModified: Timestamp?
        let body: ByteBuffer
    }

    let limit: Int
    private let state = Mutex<(generation: Timestamp, charts: [Key: Chart])>((Timestamp(milliseconds: 0), [:]))

    init(limit: Int = 512) {
        self.limit = limit
    }

    func chart(_ key: Key, generation: Timestamp) -> Chart? {
        state.withLock { $0.generation == generation ? $0.charts[key] : nil }
    }

    func remember(_ chart: Chart, as key: Key, generation: Timestamp) {
        state.withLock { state in
            // Drawn from an older reload than one already seen: not worth keeping.
            guard generation >= state.generation else { return }
            if state.generation != generation || state.charts.count >= limit { state = (generation, [:]) }
            state.charts[key] = chart
        }
    }
}
