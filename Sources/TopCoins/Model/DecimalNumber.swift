/// An exact decimal number in plain notation (`0.000000123`, never `1.23e-7`).
///
/// Prices travel as text from the upstream's JSON to the HTTP response so no digit is ever
/// changed by a binary floating-point round trip; exponent forms are expanded by moving the
/// decimal point, which is exact.
public struct DecimalNumber: Sendable, Hashable, CustomStringConvertible {
    /// Plain notation: optional `-`, integer digits without superfluous leading zeros,
    /// optionally `.` and the fraction digits exactly as received.
    public let text: String

    public var description: String { text }

    /// Parses a JSON number literal or a numeric string in the same syntax.
    public init?(_ literal: some StringProtocol) {
        guard let text = DecimalNumber.plainNotation(of: Array(literal.utf8)) else { return nil }
        self.text = text
    }

    private init(uncheckedText: String) {
        self.text = uncheckedText
    }

    /// The nearest binary double, for analytics (never for a price an answer shows).
    public var doubleValue: Double { Double(text) ?? .nan }

    /// Whether the number has no non-zero fraction digits.
    public var isIntegral: Bool {
        guard let dot = text.utf8.firstIndex(of: UInt8(ascii: ".")) else { return true }
        return text.utf8[text.utf8.index(after: dot)...].allSatisfy { $0 == UInt8(ascii: "0") }
    }

    /// The integer value when the number is integral and fits in 64 bits.
    public var integerValue: Int64? {
        guard isIntegral else { return nil }
        let integerPart = text.split(separator: ".", maxSplits: 1).first ?? ""
        return Int64(integerPart)
    }

    /// The number as `mantissa × 10^-scale`, when the mantissa fits in 64 bits and that form
    /// gives back exactly this text (used by the compact snapshot codec).
    public var scaled: (mantissa: Int64, scale: UInt8)? {
        var digits = ""
        var scale = 0
        var seenDot = false
        for character in text {
            if character == "." {
                seenDot = true
            } else {
                digits.append(character)
                if seenDot { scale += 1 }
            }
        }
        guard scale <= Int(UInt8.max), let mantissa = Int64(digits) else { return nil }
        let result = (mantissa, UInt8(scale))
        guard DecimalNumber(mantissa: result.0, scale: result.1).text == text else { return nil }
        return result
    }

    /// The decimal `mantissa × 10^-scale` in plain notation.
    public init(mantissa: Int64, scale: UInt8) {
        let negative = mantissa < 0
        var digits = String(mantissa.magnitude)
        let scale = Int(scale)
        if scale > 0 {
            if digits.count <= scale {
                digits = String(repeating: "0", count: scale - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        self.init(uncheckedText: negative ? "-" + digits : digits)
    }

    /// Validates JSON number syntax and rewrites it without exponent.
    static func plainNotation(of bytes: [UInt8]) -> String? {
        var index = 0
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") }
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var digits: [UInt8] = []
        var pointPosition = 0
        guard isDigit(index) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            digits.append(UInt8(ascii: "0"))
            index += 1
        } else {
            while isDigit(index) {
                digits.append(bytes[index])
                index += 1
            }
        }
        pointPosition = digits.count
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { return nil }
            while isDigit(index) {
                digits.append(bytes[index])
                index += 1
            }
        }
        var hasExponent = false
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            hasExponent = true
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard isDigit(index) else { return nil }
            var exponent = 0
            while isDigit(index) {
                exponent = exponent * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                // Real prices have small exponents; a huge one is garbage, not a number to expand.
                guard exponent <= 400 else { return nil }
                index += 1
            }
            pointPosition += exponentNegative ? -exponent : exponent
        }
        guard index == bytes.count else { return nil }
        if !hasExponent {
            return String(decoding: bytes, as: UTF8.self)
        }
        var integerPart: [UInt8]
        var fractionPart: [UInt8]
        if pointPosition <= 0 {
            integerPart = [UInt8(ascii: "0")]
            fractionPart = Array(repeating: UInt8(ascii: "0"), count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            integerPart = digits + Array(repeating: UInt8(ascii: "0"), count: pointPosition - digits.count)
            fractionPart = []
        } else {
            integerPart = Array(digits[..<pointPosition])
            fractionPart = Array(digits[pointPosition...])
        }
        while integerPart.count > 1, integerPart.first == UInt8(ascii: "0") { integerPart.removeFirst() }
        var result: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        result += integerPart
        if !fractionPart.isEmpty { result += [UInt8(ascii: ".")] + fractionPart }
        return String(decoding: result, as: UTF8.self)
    }
}
