import TopCoins

// The series store's decoders on bytes as Redis may hold them: the first byte picks a raw
// field (the next byte: how many 8-byte times follow, then the field), a bucket field of an
// hour or a day span, or a catalogue. Every input decodes or is a `CorruptSeries`; what
// decodes encodes back to bytes that decode to the same points.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSeries(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzInput(start, count)
    guard let kind = input.first else { return 0 }
    let rest = Array(input.dropFirst())
    switch kind % 3 {
    case 0:
        let timeCount = Int(rest.first ?? 0) % 64
        let times = Array(rest.dropFirst().prefix(timeCount * 8))
        let field = Array(rest.dropFirst(1 + times.count))
        let span = SeriesSpan(granularity: .snapshot, start: 1_764_547_200_000)
        guard let points = try? SeriesCodec.rawPoints(field) else { return 0 }
        let compact = SeriesCodec.compacted(points)
        guard let again = try? SeriesCodec.rawPoints(compact) else {
            check(false, "a compacted field does not decode")
            return 0
        }
        check(again.map(\.ordinal) == points.map(\.ordinal) && again.map(\.price.text) == points.map(\.price.text), "compaction changed the points")
        _ = try? SeriesCodec.points(field, span: span, times: times)
    case 1:
        let granularity: RetentionPolicy.Granularity = rest.first.map { $0 % 2 == 0 ? .hour : .day } ?? .hour
        let span = SeriesSpan(granularity: granularity, start: 0)
        guard let buckets = try? SeriesCodec.buckets(Array(rest.dropFirst()), spanStart: span.start, resolution: granularity) else { return 0 }
        let encoded = buckets.flatMap { SeriesCodec.bucketRecord($0, spanStart: span.start) }
        check((try? SeriesCodec.buckets(encoded, spanStart: span.start, resolution: granularity)) == buckets, "re-encoded buckets decode to others")
    default:
        guard let catalogue = try? Catalogue(encoded: rest) else { return 0 }
        check((try? Catalogue(encoded: catalogue.encoded)) == catalogue, "a re-encoded catalogue decodes to another one")
    }
    return 0
}
