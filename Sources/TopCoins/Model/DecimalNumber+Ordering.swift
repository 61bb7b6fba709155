/// Exact numeric order of decimals (an OHLC bucket's high and low), compared digit by digit
/// so two prices never compare equal because a binary float rounded them together. Equality
/// stays textual (`1.50` and `1.5` keep their digits): such a pair orders neither way.
extension DecimalNumber: Comparable {
    public static func < (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool {
        let (left, right) = (lhs.parts, rhs.parts)
        if left.negative != right.negative { return left.negative }
        return left.negative ? magnitude(right, isBelow: left) : magnitude(left, isBelow: right)
    }

    private typealias Parts = (negative: Bool, integer: ArraySlice<UInt8>, fraction: ArraySlice<UInt8>)

    /// Integer digits without leading zeros order by length, then digit by digit; fraction
    /// digits without trailing zeros order digit by digit (`0.5 < 0.51`).
    private static func magnitude(_ left: Parts, isBelow right: Parts) -> Bool {
        if left.integer.count != right.integer.count { return left.integer.count < right.integer.count }
        if left.integer != right.integer { return left.integer.lexicographicallyPrecedes(right.integer) }
        return left.fraction.lexicographicallyPrecedes(right.fraction)
    }

    /// Sign and digits, normalised so that equal numbers have equal parts (`1.50` and `1.5`,
    /// `-0` and `0`).
    private var parts: Parts {
        var digits = Array(text.utf8)[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        let dot = digits.firstIndex(of: UInt8(ascii: ".")) ?? digits.endIndex
        var integer = digits[..<dot]
        while integer.first == UInt8(ascii: "0") { integer = integer.dropFirst() }
        var fraction = dot < digits.endIndex ? digits[digits.index(after: dot)...] : digits[dot...]
        while fraction.last == UInt8(ascii: "0") { fraction = fraction.dropLast() }
        return (negative && !(integer.isEmpty && fraction.isEmpty), integer, fraction)
    }
}
