import Testing

@testable import TopCoins

struct DecimalOrderingTests {
    /// The oracle: m1 · 10^s2 against m2 · 10^s1 in 128-bit integers.
    static func exactlyBelow(_ a: (Int64, UInt8), _ b: (Int64, UInt8)) -> Bool {
        var left = Int128(a.0)
        var right = Int128(b.0)
        for _ in 0..<b.1 { left *= 10 }
        for _ in 0..<a.1 { right *= 10 }
        return left < right
    }

    @Test func ordersLikeExactArithmetic() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let a = (Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &random), UInt8.random(in: 0...12, using: &random))
            let b = Bool.random(using: &random) ? a : (Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &random), UInt8.random(in: 0...12, using: &random))
            let (x, y) = (DecimalNumber(mantissa: a.0, scale: a.1), DecimalNumber(mantissa: b.0, scale: b.1))
            #expect((x < y) == Self.exactlyBelow(a, b), "\(x) < \(y)")
        }
    }

    @Test func trailingZerosAndSignsOfZeroDoNotMatter() {
        let values = ["1.50", "1.5", "-0", "0.000", "0", "12", "12.0"].map { DecimalNumber($0)! }
        #expect(!(values[0] < values[1]) && !(values[1] < values[0]))
        #expect(!(values[2] < values[3]) && !(values[3] < values[2]))
        #expect(!(values[5] < values[6]) && !(values[6] < values[5]))
        #expect(DecimalNumber("-0.1")! < DecimalNumber("0")!)
        #expect(DecimalNumber("0.5")! < DecimalNumber("0.51")!)
        #expect(DecimalNumber("99.9")! < DecimalNumber("100")!)
        #expect(DecimalNumber("123456789012345678901234567890.1")! < DecimalNumber("123456789012345678901234567890.11")!)
    }
}

struct SeriesCodecTests {
    /// A random walk with CoinMarketCap-like digits, scale changes, a few text-only prices
    /// (mantissas past 64 bits) and gaps where the asset was not in a snapshot.
    static func walk(count: Int, seed: UInt64) -> [(ordinal: Int, price: DecimalNumber)] {
        var random = SplitMix64(seed: seed)
        var mantissa = Int64.random(in: 1...9_000_000_000_000_000, using: &random)
        var scale = UInt8.random(in: 2...18, using: &random)
        var points: [(ordinal: Int, price: DecimalNumber)] = []
        var ordinal = 0
        while points.count < count {
            ordinal += Int.random(in: 0..<10, using: &random) == 0 ? 2 : 1
            mantissa = max(1, mantissa + Int64.random(in: -(mantissa / 500)...(mantissa / 500), using: &random))
            if Int.random(in: 0..<20, using: &random) == 0 { scale = UInt8.random(in: 0...18, using: &random) }
            let price =
                Int.random(in: 0..<50, using: &random) == 0
                ? DecimalNumber("98765432109876543210.\(ordinal)")! : DecimalNumber(mantissa: mantissa, scale: scale)
            points.append((ordinal, price))
        }
        return points
    }

    static func same(_ a: [(ordinal: Int, price: DecimalNumber)], _ b: [(ordinal: Int, price: DecimalNumber)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.ordinal == $1.ordinal && $0.price.text == $1.price.text }
    }

    @Test(arguments: [1, 2, 60, 500]) func appendedPointsAndTheirCompactBlockDecodeToTheSameDigits(count: Int) throws {
        let points = Self.walk(count: count, seed: UInt64(count))
        let appended = points.flatMap { SeriesCodec.point(ordinal: $0.ordinal, price: $0.price) }
        #expect(Self.same(try SeriesCodec.rawPoints(appended), points))
        let compact = SeriesCodec.compacted(points)
        #expect(Self.same(try SeriesCodec.rawPoints(compact), points))
        #expect(compact.count <= appended.count)
        if count >= 60 { #expect(compact.count < appended.count * 9 / 10) }
        // Compacting again changes nothing; points appended after a block are read too.
        #expect(SeriesCodec.compacted(try SeriesCodec.rawPoints(compact)) == compact)
        let late = (ordinal: points.last!.ordinal + 1, price: DecimalNumber("42.5")!)
        #expect(Self.same(try SeriesCodec.rawPoints(compact + SeriesCodec.point(ordinal: late.ordinal, price: late.price)), points + [late]))
    }

    @Test func anHourOfMinutePointsCompactsToAboutEightBytesAPoint() {
        let points = Self.walk(count: 60, seed: 99).enumerated().map { (ordinal: $0.offset, price: DecimalNumber(mantissa: 6_192_340_938_478_237 + Int64($0.offset) * 1_234_567_891, scale: 11)) }
        #expect(SeriesCodec.compacted(points).count <= 60 * 8)
    }

    @Test func timesRoundTripAndMapOrdinalsToTimes() throws {
        let times = [Timestamp(milliseconds: 1_764_547_200_000), Timestamp(milliseconds: 1_764_547_260_123)]
        let field = SeriesCodec.point(ordinal: 1, price: DecimalNumber("2")!) + SeriesCodec.point(ordinal: 0, price: DecimalNumber("1")!)
        let span = SeriesSpan(granularity: .snapshot, containing: times[0].milliseconds)
        let points = try SeriesCodec.points(field, span: span, times: times.flatMap(SeriesCodec.time))
        #expect(points == [PriceBucket(point: times[0], price: DecimalNumber("1")!), PriceBucket(point: times[1], price: DecimalNumber("2")!)])
        #expect(throws: SeriesCodec.CorruptSeries.self) { try SeriesCodec.points(field, span: span, times: SeriesCodec.time(times[0])) }
    }

    @Test func bucketRecordsOfOneBucketFoldInWriteOrder() throws {
        let day = SeriesSpan(granularity: .hour, containing: 1_764_547_200_000)
        func bucket(_ hour: Int64, _ ohlc: [String], _ count: Int) -> PriceBucket {
            PriceBucket(
                start: Timestamp(milliseconds: day.start + hour * 3_600_000), width: 3_600_000, open: DecimalNumber(ohlc[0])!, high: DecimalNumber(ohlc[1])!,
                low: DecimalNumber(ohlc[2])!, close: DecimalNumber(ohlc[3])!, count: count)
        }
        let records = [bucket(3, ["10", "12", "9", "11"], 30), bucket(1, ["5", "6", "4", "5.5"], 60), bucket(3, ["11", "15", "10.5", "14"], 30)]
        let decoded = try SeriesCodec.buckets(records.flatMap { SeriesCodec.bucketRecord($0, spanStart: day.start) }, spanStart: day.start, resolution: .hour)
        #expect(decoded == [bucket(1, ["5", "6", "4", "5.5"], 60), bucket(3, ["10", "15", "9", "14"], 60)])
    }

    @Test func arbitraryBytesAreAnErrorNeverACrash() {
        var random = SplitMix64(seed: 3)
        let span = SeriesSpan(granularity: .snapshot, containing: 1_764_547_200_000)
        let times = (0..<60).flatMap { SeriesCodec.time(Timestamp(milliseconds: span.start + Int64($0) * 60_000)) }
        for length in 0..<400 {
            let bytes = (0..<length % 64).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = try? SeriesCodec.points(bytes, span: span, times: times)
            _ = try? SeriesCodec.buckets(bytes, spanStart: 0, resolution: .day)
            _ = try? Catalogue(encoded: Catalogue.magic + bytes)
        }
    }
}

struct PriceBucketTests {
    @Test func aggregationEqualsAnIndependentOHLCOfEachUTCBucket() {
        var random = SplitMix64(seed: 11)
        let start: Int64 = 1_764_547_200_000 - 7 * 60_000
        var points: [PriceBucket] = []
        var time = start
        for _ in 0..<2000 {
            time += Int64.random(in: 1_000...120_000, using: &random)
            points.append(PriceBucket(point: Timestamp(milliseconds: time), price: DecimalNumber(mantissa: Int64.random(in: 1...99_999, using: &random), scale: 2)))
        }
        for width: Int64 in [60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000] {
            let buckets = PriceBucket.aggregate(points, width: width)
            // Independently: group by floor(time / width), then first, max, min, last, count.
            let groups = Dictionary(grouping: points) { $0.start.milliseconds / width * width }
            #expect(buckets.count == groups.count)
            for bucket in buckets {
                let members = groups[bucket.start.milliseconds]!
                let prices = members.map { Double($0.price.text)! }
                #expect(bucket.width == width && bucket.count == members.count)
                #expect(bucket.open == members.first!.price && bucket.close == members.last!.price)
                #expect(Double(bucket.high.text)! == prices.max()! && Double(bucket.low.text)! == prices.min()!)
            }
            // Folding the buckets again into a coarser width equals folding the points.
            #expect(PriceBucket.aggregate(buckets, width: 86_400_000) == PriceBucket.aggregate(points, width: 86_400_000))
        }
    }

    @Test func coarserStoredBucketsPassThroughAsWhatTheyAre() {
        let day = PriceBucket(start: Timestamp(milliseconds: 86_400_000 * 20000), width: 86_400_000, open: DecimalNumber("1")!, high: DecimalNumber("2")!, low: DecimalNumber("1")!, close: DecimalNumber("2")!, count: 1440)
        #expect(PriceBucket.aggregate([day], width: 3_600_000) == [day])
    }
}

struct SeriesRetentionTests {
    let day: Int64 = 86_400_000

    @Test func spansFoldIntoTheCoarsestTierTheyHaveWhollyPassed() {
        let now = Timestamp(milliseconds: 20_000 * day + 5_000_000)
        let policy = RetentionPolicy.default
        func fate(_ granularity: RetentionPolicy.Granularity, daysAgo: Int64) -> RetentionPolicy.SpanFate {
            policy.fate(of: SeriesSpan(granularity: granularity, containing: now.milliseconds - daysAgo * day), now: now)
        }
        #expect(fate(.snapshot, daysAgo: 1) == .keep)
        #expect(fate(.snapshot, daysAgo: 7) == .keep)  // its hour ends after the boundary
        #expect(fate(.snapshot, daysAgo: 8) == .thin(into: .hour))
        #expect(fate(.snapshot, daysAgo: 200) == .thin(into: .day))
        #expect(fate(.hour, daysAgo: 30) == .keep)
        #expect(fate(.hour, daysAgo: 91) == .thin(into: .day))
        #expect(fate(.day, daysAgo: 5000) == .keep)
        let bounded = RetentionPolicy(tiers: [.init(every: .snapshot, forDays: 2), .init(every: .minute, forDays: 10)])
        #expect(bounded.fate(of: SeriesSpan(granularity: .snapshot, containing: now.milliseconds - 3 * day), now: now) == .thin(into: .minute))
        #expect(bounded.fate(of: SeriesSpan(granularity: .minute, containing: now.milliseconds - 11 * day), now: now) == .delete)
    }

    @Test func spanMembersRoundTripAndRejectWhatIsNotOne() {
        let span = SeriesSpan(granularity: .hour, containing: 1_764_590_000_000)
        #expect(SeriesSpan(member: span.member) == span)
        for bad in ["", "hour", "hour:12", "week:0", "hour:abc", "snapshot:1:2"] { #expect(SeriesSpan(member: bad) == nil) }
    }
}

struct CatalogueTests {
    @Test func renamesKeepTheIdAndTheNewestNameWinsInAnyOrder() throws {
        let t1 = Timestamp(milliseconds: 1_700_000_000_000)
        let t2 = t1.adding(milliseconds: 60_000)
        var forward = Catalogue()
        forward.record(.init(cmcId: 7, symbol: "OLD", name: "Old name"), at: t1)
        forward.record(.init(cmcId: 7, symbol: "NEW", name: "New name"), at: t2)
        var backward = Catalogue()
        backward.record(.init(cmcId: 7, symbol: "NEW", name: "New name"), at: t2)
        backward.record(.init(cmcId: 7, symbol: "OLD", name: "Old name"), at: t1)
        #expect(forward == backward)
        let entry = try #require(forward.entries[7])
        #expect(entry.symbol == "NEW" && entry.firstSeen == t1 && entry.lastSeen == t2)
        #expect(try Catalogue(encoded: forward.encoded) == forward)
        #expect(throws: SeriesCodec.CorruptSeries.self) { try Catalogue(encoded: Array("nope".utf8)) }
    }
}
