import TopCoins

/// Helpers for the property-style tests, which draw from a seeded SplitMix64 so that a failure
/// names its seed and iteration, and running again gives the same inputs.
extension SplitMix64 {
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
    /// The package root: this file is `<root>/Tests/TopCoinsTests/SplitMix64+Tests.swift`.
    static let root: String = {
        var components = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    static func file(_ relativePath: String) -> String { root + "/" + relativePath }
}
