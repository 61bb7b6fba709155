/// A small seeded PRNG (SplitMix64) so the property-style tests are reproducible: a failure
/// names its seed and iteration, and running again gives the same inputs.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A random element of a non-empty collection.
    mutating func pick<C: Collection>(_ collection: C) -> C.Element {
        let offset = Int.random(in: 0..<collection.count, using: &self)
        return collection[collection.index(collection.startIndex, offsetBy: offset)]
    }

    /// A string of `length` characters drawn from `alphabet`.
    mutating func string(from alphabet: [Character], length: Int) -> String {
        var text = ""
        for _ in 0..<length { text.append(pick(alphabet)) }
        return text
    }
}

/// Paths inside the package, found from this file's location so tests run from any directory.
enum PackagePaths {
    /// The package root: this file is `<root>/Tests/TopCoinsTests/SplitMix64.swift`.
    static let root: String = {
        var components = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    static func file(_ relativePath: String) -> String { root + "/" + relativePath }
}
