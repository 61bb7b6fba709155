/// A seeded random walk of prices, so the demo's replayed upstream moves like a market.
///
/// Each step moves a price by a whole number of basis points, at most
/// ±``maxStepBasisPoints``, computed on the price's own digits as integers
/// (`mantissa × 10^-scale`, see ``DecimalNumber/scaled``) rather than in floating point. That
/// keeps three promises: the same seed gives the same digits on every machine; a price keeps
/// its number of fraction digits and plain notation (`1.23e-7` walks as `0.000000123`, nine
/// fraction digits, never an exponent); and a positive price stays positive, since a step is
/// less than the price itself (a price too small for a step's share to reach its last digit
/// simply stays where it is).
public struct PriceWalk: Sendable {
    /// The largest step, in hundredths of a percent.
    public static let maxStepBasisPoints: Int64 = 100

    private var random: SplitMix64

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    /// `price` moved one step. Every call draws exactly one number, so a price the walk leaves
    /// alone (not positive, or more digits than 64 bits hold) does not shift the steps of the
    /// prices after it.
    public mutating func step(_ price: DecimalNumber) -> DecimalNumber {
        // Modulo rather than `Int64.random(in:using:)`, whose algorithm the standard library
        // does not promise to keep; the bias over 2^64 draws is negligible.
        let span = UInt64(2 * Self.maxStepBasisPoints + 1)
        let basisPoints = Int64(random.next() % span) - Self.maxStepBasisPoints
        guard let (mantissa, scale) = price.scaled, mantissa > 0 else { return price }
        let delta = Int64(10_000).dividingFullWidth(mantissa.multipliedFullWidth(by: basisPoints)).quotient
        let (moved, overflow) = mantissa.addingReportingOverflow(delta)
        return overflow ? price : DecimalNumber(mantissa: moved, scale: scale)
    }

    /// `price` times `factor`, rounded to its own last digit: how the demo bends a walk so it
    /// lands on a given price (the factor is a double, so this alone is not digit-exact across
    /// machines' math libraries; a price keeps its digits when the product would not fit).
    public static func scaled(_ price: DecimalNumber, by factor: Double) -> DecimalNumber {
        guard let (mantissa, scale) = price.scaled else { return price }
        let moved = (Double(mantissa) * factor).rounded()
        return abs(moved) < 9e18 ? DecimalNumber(mantissa: Int64(moved), scale: scale) : price
    }
}
