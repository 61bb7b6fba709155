import TopCoins

// The JSON parser, on upstream response bodies, as the fetchers use it: a full parse must
// survive a write-and-parse round trip; a parse keeping only a shipped config's paths must
// build exactly those members of the full parse; and the fetch path (classify, records path,
// field mapping) must account for every record.

/// The shipped fetcher configs, whose response filters and fields the fetch path uses.
let fetchers: [FetcherConfig] = ["Config/price-fetcher.json", "Config/rank-fetcher.json"].map { path in
    do {
        return try ConfigFile.load(repositoryRoot + "/" + path, environment: ["CMC_API_KEY": "key", "CRYPTOCOMPARE_API_KEY": "key"]) {
            (config) throws(ConfigError) in try FetcherConfig(reading: config)
        }
    } catch {
        fatalError("cannot load \(path): \(error)")
    }
}

let now = Timestamp(milliseconds: 1_718_366_400_000)

/// Reasons a full parse may give for a document a filtered parse accepts: skipped strings are
/// checked for syntax only, not decoded, so their content is not validated.
let stringContentReasons: Set<String> = ["string is not valid UTF-8", "unpaired surrogate", "invalid code point"]

/// What a parse keeping `filter` should build of `value`.
func kept(_ value: JSONValue, _ filter: JSONKeyFilter) -> JSONValue {
    switch (value, filter) {
    case (_, .everything):
        return value
    case (.object(let object), .keys(let keys)):
        return .object(JSONObject(object.members.compactMap { key, member in keys[key].map { (key, kept(member, $0)) } }))
    case (.array(let elements), _):
        return .array(elements.map { kept($0, filter) })
    default:
        return value
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    let full = Result { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) }
    if case .success(let value) = full {
        let written = JSONWriter.encode(value)
        check((try? JSONParser.parse(written)) == value, "the written document parses to another value")
        check(JSONWriter.encode(try! JSONParser.parse(written)) == written, "writing is not stable")
    }
    if case .failure(let error) = full {
        check(error.offset >= 0 && error.offset <= bytes.count, "error offset \(error.offset) outside the input")
    }
    for fetcher in fetchers {
        let filter = fetcher.responseFilter
        let filtered = Result { () throws(JSONSyntaxError) in try JSONParser.parse(bytes, keeping: filter) }
        switch (full, filtered) {
        case (.success(let value), .success(let keptValue)):
            check(keptValue == kept(value, filter), "the filtered parse differs from the full parse's kept members")
        case (.success, .failure(let error)):
            check(false, "the filtered parse rejects a document the full parse accepts: \(error)")
        case (.failure(let error), .success):
            check(stringContentReasons.contains(error.reason), "the filtered parse accepts a document with a syntax error: \(error)")
        case (.failure, .failure):
            break
        }

        let classified = UpstreamFailure.classify(status: 200, retryAfterHeader: nil, body: bytes, now: now, keeping: filter)
        guard case .success(let document) = classified, case .array(let items)? = fetcher.records.resolve(in: document) else { continue }
        let output = RecordMapper(fields: fetcher.fields).map(items)
        check(output.records.count + output.skipped.values.reduce(0, +) == items.count, "mapping lost records")
        let names = fetcher.fields.map(\.name) + [FetchedSnapshot.sourceRankField]
        for record in output.records {
            check(record.keys == names, "a mapped record has the keys \(record.keys)")
        }
    }
    return 0
}
