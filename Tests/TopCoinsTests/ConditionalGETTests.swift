import Testing

@testable import TopCoins

@Suite("ConditionalGET")
struct ConditionalGETTests {
    static let etag = #""1715667000000-json-200""#
    static let headers: [(String, Bool)] = [
        ("*", true), (etag, true), ("W/" + etag, true), (#""other", "# + etag, true), (#""a",W/"# + etag + #", "b""#, true),
        (" \t" + etag + "\t ", true), (#""other""#, false), (#""1715667000000-json-100""#, false), ("", false),
        (#"W/"other""#, false), (String(etag.dropFirst().dropLast()), false),
    ]

    @Test("If-None-Match matches *, the tag itself, its weak form, or any of a list", arguments: headers)
    func matching(header: String, matches: Bool) {
        #expect(ConditionalGET.matches(header, Self.etag) == matches)
    }
}
