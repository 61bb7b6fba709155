import Testing

@testable import TopCoins

@Suite("PriceWalk")
struct PriceWalkTests {
    static func walk(_ text: String, seed: UInt64, steps: Int) -> [String] {
        var walk = PriceWalk(seed: seed)
        var price = DecimalNumber(text)!
        return (0..<steps).map { _ in
            price = walk.step(price)
            return price.text
        }
    }

    /// Pinned digits (worked out apart from this code): a change to the PRNG or the step rule
    /// shows here, not only as a demo that moves differently.
    @Test func knownSteps() {
        var random = SplitMix64(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(Self.walk("61923.40938478237", seed: 1, steps: 3) == ["61595.21531504303", "61022.37981261313", "60796.59700730647"])
    }

    @Test func sameSeedSameSequence() {
        #expect(Self.walk("3473.308026887763", seed: 42, steps: 50) == Self.walk("3473.308026887763", seed: 42, steps: 50))
        #expect(Self.walk("3473.308026887763", seed: 42, steps: 50) != Self.walk("3473.308026887763", seed: 43, steps: 50))
    }

    @Test(arguments: ["61923.40938478237", "0.9975059554294134", "1.23e-7", "4.5e-9", "0.000000001", "1", "250"])
    func keepsDigitsStaysPositiveAndStepsSmall(start: String) {
        var walk = PriceWalk(seed: 7)
        var price = DecimalNumber(start)!
        let scale = price.scaled!.scale
        for index in 0..<2_000 {
            let before = price.scaled!.mantissa
            price = walk.step(price)
            let after = price.scaled!
            #expect(!price.text.contains("e") && !price.text.hasPrefix("-"), "step \(index): \(price.text)")
            #expect(after.scale == scale && after.mantissa > 0, "step \(index): \(price.text)")
            #expect((after.mantissa - before).magnitude * 10_000 <= before.magnitude * UInt64(PriceWalk.maxStepBasisPoints), "step \(index)")
        }
    }

    @Test func tinyPricesStillMove() {
        #expect(Set(Self.walk("1.23e-7", seed: 3, steps: 200)).count > 1)
    }

    @Test(arguments: ["0", "0.00", "-5.5", "123456789012345678901234567890"])
    func leavesWhatItCannotWalk(text: String) {
        #expect(Self.walk(text, seed: 1, steps: 3) == Array(repeating: DecimalNumber(text)!.text, count: 3))
    }

    @Test func everyStepDrawsOnceWhateverThePrice() {
        var mixed = PriceWalk(seed: 9)
        var plain = PriceWalk(seed: 9)
        _ = mixed.step(DecimalNumber("0")!)
        _ = plain.step(DecimalNumber("1")!)
        #expect(mixed.step(DecimalNumber("100.00")!) == plain.step(DecimalNumber("100.00")!))
    }
}
