/// One asset's closes at one interval, as the returns ranking reads them: bucket starts
/// (aligned to UTC) ascending, each bucket's close with its exact digits, and which closes
/// are a backfilled daily candle's, which TopCoins' own points never replace.
///
/// A close is kept as mantissa × 10^-scale (as the series codec stores prices): 9 bytes
/// instead of a string, most of which would not fit inline, so every asset's hourly closes
/// stay tens of megabytes. A close that form cannot give back exactly is kept as text.
public struct CloseSeries: Sendable {
    public private(set) var starts: [Int64] = []
    private var mantissas: [Int64] = []
    /// The scale, with `candleFlag` set for a candle's close; `textScale` for a close in `texts`.
    private var scales: [UInt8] = []
    private var texts: [Int64: DecimalNumber] = [:]

    static let candleFlag: UInt8 = 0x80
    static let textScale: UInt8 = 0x7F

    public init() {}

    /// Room for `capacity` closes up front: series grown one close at a time while history is
    /// read would leave the heap strewn with the smaller arrays they outgrew.
    public init(reservingCapacity capacity: Int) {
        starts.reserveCapacity(capacity)
        mantissas.reserveCapacity(capacity)
        scales.reserveCapacity(capacity)
    }

    public var count: Int { starts.count }

    public func close(at index: Int) -> DecimalNumber {
        let scale = scales[index] & ~CloseSeries.candleFlag
        return scale == CloseSeries.textScale ? texts[starts[index]]! : DecimalNumber(mantissa: mantissas[index], scale: scale)
    }

    public var closes: [DecimalNumber] { starts.indices.map(close(at:)) }

    /// Records `close` as the close of the bucket starting at `start`: a later point of the
    /// same bucket replaces the close (an own point never replaces a candle's), a new bucket is
    /// inserted in order (after the last one, almost always).
    public mutating func record(start: Int64, close: DecimalNumber, isCandle: Bool = false) {
        var index = starts.count
        if let last = starts.last, start == last {
            index -= 1
        } else if let last = starts.last, start < last {
            var (low, high) = (0, starts.count)
            while low < high {
                let middle = (low + high) / 2
                if starts[middle] < start { low = middle + 1 } else { high = middle }
            }
            index = low
        }
        let exists = index < starts.count && starts[index] == start
        guard !exists || isCandle || scales[index] & CloseSeries.candleFlag == 0 else { return }
        var (mantissa, scale) = close.scaled.flatMap { $0.scale < CloseSeries.textScale ? $0 : nil } ?? (0, CloseSeries.textScale)
        texts[start] = scale == CloseSeries.textScale ? close : nil
        if isCandle { scale |= CloseSeries.candleFlag }
        if exists {
            mantissas[index] = mantissa
            scales[index] = scale
        } else {
            starts.insert(start, at: index)
            mantissas.insert(mantissa, at: index)
            scales.insert(scale, at: index)
        }
    }

    /// Forgets the buckets starting before `start`.
    public mutating func trim(before start: Int64) {
        guard let first = starts.first, first < start else { return }
        let count = starts.firstIndex { $0 >= start } ?? starts.count
        for dropped in starts[..<count] { texts[dropped] = nil }
        starts.removeFirst(count)
        mantissas.removeFirst(count)
        scales.removeFirst(count)
    }

    /// The position of the bucket of `width` ms holding `time`, if the series has it.
    public func bucket(holding time: Int64, width: Int64) -> Int? {
        var (low, high) = (0, starts.count)
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= time { low = middle + 1 } else { high = middle }
        }
        guard low > 0, starts[low - 1] + width > time else { return nil }
        return low - 1
    }
}
