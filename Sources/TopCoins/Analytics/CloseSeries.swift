/// One asset's closes at one interval, as the returns ranking reads them: bucket starts
/// (aligned to UTC) ascending, each bucket's close with its exact digits, and which closes
/// are a backfilled daily candle's, which TopCoins' own points never replace.
public struct CloseSeries: Sendable, Equatable {
    public private(set) var starts: [Int64] = []
    public private(set) var closes: [DecimalNumber] = []
    private var fromCandle: [Bool] = []

    public init() {}

    public var count: Int { starts.count }

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
        if index < starts.count, starts[index] == start {
            guard isCandle || !fromCandle[index] else { return }
            closes[index] = close
            fromCandle[index] = isCandle
        } else {
            starts.insert(start, at: index)
            closes.insert(close, at: index)
            fromCandle.insert(isCandle, at: index)
        }
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
