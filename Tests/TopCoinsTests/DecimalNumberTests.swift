import Testing

@testable import TopCoins

@Suite("DecimalNumber")
struct DecimalNumberTests {
    @Test(arguments: [
        "61923.40938478237", "0", "-0", "-12.5", "100", "0.000000123", "21000000.0", "-3.000",
        "123456789012345678901234567890.000000000000000000001",
    ])
    func plainLiteralsAreKeptDigitForDigit(literal: String) throws {
        let number = try #require(DecimalNumber(literal))
        #expect(number.text == literal)
        #expect(number.description == literal)
    }

    @Test(arguments: [
        ("1.23e-7", "0.000000123"),
        ("4.5e-9", "0.0000000045"),
        ("2.803e-05", "0.00002803"),
        ("1e+21", "1000000000000000000000"),
        ("1E+21", "1000000000000000000000"),
        ("1.5e+21", "1500000000000000000000"),
        ("2e21", "2000000000000000000000"),
        ("-1.5e-3", "-0.0015"),
        ("-2E2", "-200"),
        ("1.50e1", "15.0"),
        ("123.456e2", "12345.6"),
        ("123.456e3", "123456"),
        ("123.456e-2", "1.23456"),
        ("123.456e-3", "0.123456"),
        ("0.001e2", "0.1"),
        ("0.5e1", "5"),
        ("1e0", "1"),
        ("1e-0", "1"),
        ("1.0e0", "1.0"),
        ("0e10", "0"),
        ("0e-3", "0.000"),
        ("9.999e+2", "999.9"),
    ])
    func exponentFormsAreExpandedExactly(literal: String, plain: String) throws {
        #expect(DecimalNumber(literal)?.text == plain)
    }

    @Test func expandedTextNeverHasAnExponentOrSuperfluousLeadingZeros() throws {
        let number = try #require(DecimalNumber("0.00012e4"))
        #expect(number.text == "1.2")
    }

    @Test(arguments: [
        "1.2.3", "", "0x10", "+1", "01", "-01", "1.", ".5", "-", "1e", "1e+", "1e-", " 1", "1 ", "NaN", "nan", "Infinity",
        "-Infinity", "1_000", "1,5", "1e1.5", "e5", "--1", "١٢", "１", "1e401", "1e-401", "1ee1", "0.5.", "abc", "1\n",
    ])
    func rejectsNonNumbers(text: String) {
        #expect(DecimalNumber(text) == nil)
    }

    @Test func acceptsExponentsUpToTheGarbageLimit() throws {
        let big = try #require(DecimalNumber("1e400"))
        #expect(big.text == "1" + String(repeating: "0", count: 400))
        let small = try #require(DecimalNumber("1e-400"))
        #expect(small.text == "0." + String(repeating: "0", count: 399) + "1")
    }

    @Test func parsesSubstrings() {
        let text = "price=1.23e-7"
        #expect(DecimalNumber(text.dropFirst(6))?.text == "0.000000123")
    }

    @Test(arguments: [
        ("100", true, Int64(100)), ("21000000.0", true, 21_000_000), ("-3.000", true, -3), ("0", true, 0), ("-0", true, 0),
        ("1.5", false, nil), ("0.000000123", false, nil), ("1e3", true, 1000),
        ("9223372036854775807", true, Int64.max), ("-9223372036854775808", true, Int64.min),
        ("9223372036854775808", true, nil), ("1e+21", true, nil),
    ] as [(String, Bool, Int64?)])
    func integralityAndIntegerValue(literal: String, integral: Bool, integer: Int64?) throws {
        let number = try #require(DecimalNumber(literal))
        #expect(number.isIntegral == integral)
        #expect(number.integerValue == integer)
    }

    @Test(arguments: [
        (Int64(123), UInt8(9), "0.000000123"), (-15, 1, "-1.5"), (5, 0, "5"), (100, 2, "1.00"), (-5, 3, "-0.005"),
        (0, 2, "0.00"), (0, 0, "0"), (12345, 5, "0.12345"), (12345, 4, "1.2345"),
        (Int64.min, 0, "-9223372036854775808"), (Int64.max, 19, "0.9223372036854775807"),
    ] as [(Int64, UInt8, String)])
    func mantissaAndScale(mantissa: Int64, scale: UInt8, text: String) {
        #expect(DecimalNumber(mantissa: mantissa, scale: scale).text == text)
    }

    @Test(arguments: [
        ("1.2345", Int64(12345), UInt8(4)), ("-0.001", -1, 3), ("0.000000123", 123, 9), ("100", 100, 0),
        ("61923.40938478237", 6_192_340_938_478_237, 11), ("0.00", 0, 2), ("-7", -7, 0),
    ] as [(String, Int64, UInt8)])
    func scaledForm(literal: String, mantissa: Int64, scale: UInt8) throws {
        let number = try #require(DecimalNumber(literal))
        let scaled = try #require(number.scaled)
        #expect(scaled.mantissa == mantissa)
        #expect(scaled.scale == scale)
    }

    @Test(arguments: ["-0", "-0.0", "123456789012345678901234567890", "0." + String(repeating: "0", count: 300) + "1"])
    func scaledFormIsNilWhenItCannotGiveTheTextBack(literal: String) throws {
        // -0 would come back as 0; the others do not fit 64 bits or a UInt8 scale.
        let number = try #require(DecimalNumber(literal))
        #expect(number.scaled == nil)
    }

    @Test func mantissaAndScaleRoundTrip() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let mantissa = Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &random)
            let scale = UInt8.random(in: 0...20, using: &random)
            let text = DecimalNumber(mantissa: mantissa, scale: scale).text
            let parsed = try #require(DecimalNumber(text), "\(mantissa)e-\(scale) wrote \(text)")
            #expect(parsed.text == text)
            let scaled = try #require(parsed.scaled)
            #expect(scaled.mantissa == mantissa && scaled.scale == scale, "\(text)")
        }
    }

    static let numberAlphabet: [Character] = Array("0123456789") + ["0", "0", "1", ".", ".", "-", "+", "e", "E", " ", "x", "1"]

    /// Random strings: whatever is accepted is in plain notation, parses back to itself, and
    /// denotes the same value as the input (so both give the same nearest `Double`).
    @Test(arguments: [101, 102] as [UInt64])
    func randomStringsNeverCrashAndAcceptedOnesAreExact(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var accepted = 0
        for _ in 0..<2500 {
            let text = random.string(from: Self.numberAlphabet, length: Int.random(in: 0...12, using: &random))
            guard let number = DecimalNumber(text) else { continue }
            accepted += 1
            let plain = number.text
            #expect(!plain.contains("e") && !plain.contains("E") && !plain.contains("+"), "\(text) -> \(plain)")
            #expect(plain.filter { $0 == "." }.count <= 1)
            #expect(DecimalNumber(plain)?.text == plain, "\(text) -> \(plain) is not a fixed point")
            let original = try #require(Double(text), "accepted \(text) that Double rejects")
            #expect(Double(plain) == original, "\(text) -> \(plain) changed the value")
            if !text.contains("e") && !text.contains("E") { #expect(plain == text) }
        }
        #expect(accepted > 50)
    }

    @Test func randomUnicodeStringsNeverCrash() {
        var random = SplitMix64(seed: 103)
        let alphabet: [Character] = ["1", "e", "-", ".", "é", "😀", "\u{0}", "٣", "\u{301}", "１"]
        for _ in 0..<2000 {
            let text = random.string(from: alphabet, length: Int.random(in: 0...10, using: &random))
            if let number = DecimalNumber(text) {
                #expect(number.text.allSatisfy { $0.isASCII }, "\(text)")
            }
        }
    }
}
