/// A technical indicator over a series of closes, as DESIGN.md defines it: the definitions are
/// TA-Lib's (RSI, EMA) and pandas' (rolling mean, sample standard deviation, `pct_change`), so a
/// value here equals what those libraries compute from the same closes. Each function returns
/// one value per close, nil until the indicator is defined.
public enum Indicator: Sendable, Hashable {
    case sma(Int)
    case ema(Int)
    case rsi(Int)
    case std(Int)
    case `return`(Int)

    /// The column name in answers: `sma_5`, `rsi_14`.
    public var column: String {
        switch self {
        case .sma(let n): "sma_\(n)"
        case .ema(let n): "ema_\(n)"
        case .rsi(let n): "rsi_\(n)"
        case .std(let n): "std_\(n)"
        case .return(let n): "return_\(n)"
        }
    }

    public var window: Int {
        switch self {
        case .sma(let n), .ema(let n), .rsi(let n), .std(let n), .return(let n): n
        }
    }

    public func values(_ closes: [Double]) -> [Double?] {
        switch self {
        case .sma(let n): Indicator.sma(closes, n)
        case .ema(let n): Indicator.ema(closes, n)
        case .rsi(let n): Indicator.rsi(closes, n)
        case .std(let n): Indicator.std(closes, n)
        case .return(let n): Indicator.returns(closes, n)
        }
    }

    /// Mean of the last `n` closes, summed anew for each window so no rounding error carries.
    public static func sma(_ closes: [Double], _ n: Int) -> [Double?] {
        guard n >= 1 else { return closes.map { _ in nil } }
        return closes.indices.map { index in
            guard index >= n - 1 else { return nil }
            var sum = 0.0
            for close in closes[(index - n + 1)...index] { sum += close }
            return sum / Double(n)
        }
    }

    /// TA-Lib's EMA: alpha = 2/(n+1), seeded with the mean of the first n closes, then
    /// `ema += (close - ema) * alpha`.
    public static func ema(_ closes: [Double], _ n: Int) -> [Double?] {
        guard n >= 1, closes.count >= n else { return closes.map { _ in nil } }
        var result = [Double?](repeating: nil, count: closes.count)
        let alpha = 2.0 / Double(n + 1)
        var sum = 0.0
        for close in closes[0..<n] { sum += close }
        var ema = sum / Double(n)
        result[n - 1] = ema
        for index in n..<closes.count {
            ema = (closes[index] - ema) * alpha + ema
            result[index] = ema
        }
        return result
    }

    /// TA-Lib's RSI (Wilder's smoothing): the mean gain and loss of the first n changes, then
    /// `avg = (avg·(n−1) + x)/n`; the first value at the (n+1)-th close. Where gain and loss
    /// are both 0 (no movement at all) the value is 0, as in the TA-Lib the PyPI wheel ships
    /// (0.8): older releases zeroed any gain plus loss below a fixed 1e-8, which flattened
    /// every coin quoted around 1e-5 to 0.
    public static func rsi(_ closes: [Double], _ n: Int) -> [Double?] {
        guard n >= 1, closes.count > n else { return closes.map { _ in nil } }
        var result = [Double?](repeating: nil, count: closes.count)
        var gain = 0.0
        var loss = 0.0
        for index in 1...n {
            let change = closes[index] - closes[index - 1]
            if change < 0 { loss -= change } else { gain += change }
        }
        gain /= Double(n)
        loss /= Double(n)
        func value() -> Double {
            let total = gain + loss
            return total == 0 ? 0 : 100 * (gain / total)
        }
        result[n] = value()
        for index in (n + 1)..<closes.count {
            let change = closes[index] - closes[index - 1]
            gain *= Double(n - 1)
            loss *= Double(n - 1)
            if change < 0 { loss -= change } else { gain += change }
            gain /= Double(n)
            loss /= Double(n)
            result[index] = value()
        }
        return result
    }

    /// Sample standard deviation (n−1, pandas' default) of the last n closes, two-pass per
    /// window (mean, then squared deviations) for accuracy. A window without movement is
    /// exactly 0: its computed mean may miss the common close by an ulp, which would leave a
    /// residue of about 1e-16 of the price.
    public static func std(_ closes: [Double], _ n: Int) -> [Double?] {
        guard n >= 2 else { return closes.map { _ in nil } }
        return closes.indices.map { index in
            guard index >= n - 1 else { return nil }
            let window = closes[(index - n + 1)...index]
            if window.allSatisfy({ $0 == closes[index] }) { return 0 }
            var sum = 0.0
            for close in window { sum += close }
            let mean = sum / Double(n)
            var squares = 0.0
            for close in window { squares += (close - mean) * (close - mean) }
            return (squares / Double(n - 1)).squareRoot()
        }
    }

    /// `close_t / close_(t−n) − 1` over n points of the series (no gap filling: the point n
    /// before, whatever time lies between).
    public static func returns(_ closes: [Double], _ n: Int) -> [Double?] {
        guard n >= 1 else { return closes.map { _ in nil } }
        return closes.indices.map { index in
            guard index >= n, closes[index - n] != 0 else { return nil }
            return closes[index] / closes[index - n] - 1
        }
    }
}
