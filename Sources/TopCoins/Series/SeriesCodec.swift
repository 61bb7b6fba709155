/// The bytes of the series store. Each span (see `spanMilliseconds`) is one Redis hash:
/// field `t` lists the span's snapshot times, and one field per asset (its CMC id in
/// decimal) holds that asset's points, so reading an asset touches no other asset's bytes.
///
/// ```
/// t           8-byte big-endian unix ms per snapshot, in write order (a point's ordinal
///             is its time's position: a length / 8, which the write script can compute)
/// raw field   entries, each
///               point: varint(ordinal × 2), price          (appended by the write script)
///               block: 0x01, varint(bitmap bytes), bitmap of ordinals present, then the
///                      prices in ordinal order: the first whole, each next one as
///                      varint(zigzag(mantissa delta) × 2) at the same scale, or 1 + whole
///                      (what compaction writes for a closed hour)
/// bucket field  records, each varint(index in span), varint(count), open, high, low, close;
///               records with one index fold together in write order
/// ```
/// A price is a scale byte + zigzag mantissa, or 0xFF + text (`ByteWriter.price`): exact digits.
public enum SeriesCodec {
    public static let timesField = "t"

    public struct CorruptSeries: Error, Sendable, Equatable, CustomStringConvertible {
        public let detail: String
        public var description: String { "corrupt series data: \(detail)" }
    }

    static let blockTag: UInt8 = 0x01

    /// A snapshot time as the `t` field holds it.
    public static func time(_ time: Timestamp) -> [UInt8] {
        var writer = ByteWriter()
        writer.fixed(time.milliseconds)
        return writer.bytes
    }

    public static func times(_ bytes: [UInt8]) throws(CorruptSeries) -> [Int64] {
        guard bytes.count % 8 == 0 else { throw CorruptSeries(detail: "times field of \(bytes.count) bytes") }
        var reader = ByteReader(bytes)
        var times: [Int64] = []
        times.reserveCapacity(bytes.count / 8)
        while !reader.isAtEnd {
            do { times.append(try reader.fixed()) } catch { throw CorruptSeries(detail: "\(error)") }
        }
        return times
    }

    /// A point's price as the writer hands it to the write script, which prefixes the ordinal.
    public static func pointPrice(_ price: DecimalNumber) -> [UInt8] {
        var writer = ByteWriter()
        writer.price(price)
        return writer.bytes
    }

    /// A whole raw point, ordinal included (what the write script's append produces).
    public static func point(ordinal: Int, price: DecimalNumber) -> [UInt8] {
        var writer = ByteWriter()
        writer.varint(UInt64(ordinal) << 1)
        writer.price(price)
        return writer.bytes
    }

    /// The (ordinal, price) pairs of a raw field, ascending by ordinal, one per ordinal.
    public static func rawPoints(_ bytes: [UInt8]) throws(CorruptSeries) -> [(ordinal: Int, price: DecimalNumber)] {
        var reader = ByteReader(bytes)
        var points: [(ordinal: Int, price: DecimalNumber)] = []
        do {
            while !reader.isAtEnd {
                if bytes[reader.position] == blockTag {
                    reader.position += 1
                    try readBlock(&reader, into: &points)
                } else {
                    let header = try reader.varint()
                    guard header >> 1 <= UInt64(Int32.max) else { throw CorruptSeries(detail: "ordinal \(header >> 1)") }
                    points.append((Int(header >> 1), try reader.price()))
                }
            }
        } catch let error as CorruptSeries {
            throw error
        } catch {
            throw CorruptSeries(detail: "\(error)")
        }
        guard !zip(points, points.dropFirst()).allSatisfy({ $0.ordinal < $1.ordinal }) else { return points }
        // Out of order or repeated (never written so): ascending, the first of each ordinal.
        var seen: Set<Int> = []
        return points.filter { seen.insert($0.ordinal).inserted }.sorted { $0.ordinal < $1.ordinal }
    }

    private static func readBlock(_ reader: inout ByteReader, into points: inout [(ordinal: Int, price: DecimalNumber)]) throws {
        let bitmapLength = try reader.int()
        guard bitmapLength <= reader.bytes.count - reader.position else { throw CorruptSeries(detail: "bitmap of \(bitmapLength) bytes") }
        let bitmap = reader.bytes[reader.position..<reader.position + bitmapLength]
        reader.position += bitmapLength
        var previous: (mantissa: Int64, scale: UInt8)?
        for (byteIndex, byte) in bitmap.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << bit) != 0 {
                let price: DecimalNumber
                if let last = previous {
                    let header = try reader.varint()
                    if header == 1 {
                        price = try reader.price()
                    } else {
                        let zigzag = header >> 1
                        let delta = Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1)))
                        let (mantissa, overflow) = last.mantissa.addingReportingOverflow(delta)
                        guard !overflow else { throw CorruptSeries(detail: "price delta overflows") }
                        price = DecimalNumber(mantissa: mantissa, scale: last.scale)
                    }
                } else {
                    price = try reader.price()
                }
                previous = price.scaled
                points.append((byteIndex * 8 + bit, price))
            }
        }
    }

    /// A raw field rewritten as one block: the same points in fewer bytes (ordinals as a
    /// bitmap, prices as deltas of their neighbours), or as plain points when a block would
    /// not be smaller (a field of one or two points).
    public static func compacted(_ points: [(ordinal: Int, price: DecimalNumber)]) -> [UInt8] {
        let block = compactBlock(points)
        let plain = points.flatMap { point(ordinal: $0.ordinal, price: $0.price) }
        return block.count < plain.count ? block : plain
    }

    private static func compactBlock(_ points: [(ordinal: Int, price: DecimalNumber)]) -> [UInt8] {
        guard let last = points.last else { return [] }
        var bitmap = [UInt8](repeating: 0, count: last.ordinal / 8 + 1)
        for point in points { bitmap[point.ordinal / 8] |= 1 << UInt8(point.ordinal % 8) }
        var writer = ByteWriter(reservingCapacity: bitmap.count + points.count * 8 + 4)
        writer.byte(blockTag)
        writer.varint(bitmap.count)
        writer.bytes += bitmap
        var previous: (mantissa: Int64, scale: UInt8)?
        var previousOrdinal = -1
        for point in points where point.ordinal != previousOrdinal {
            previousOrdinal = point.ordinal
            let scaled = point.price.scaled
            defer { previous = scaled }
            guard let last = previous else {
                writer.price(point.price)
                continue
            }
            if let scaled, scaled.scale == last.scale, case let (delta, false) = scaled.mantissa.subtractingReportingOverflow(last.mantissa),
                delta.magnitude < 1 << 61
            {
                writer.varint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)) << 1)
            } else {
                writer.varint(1)
                writer.price(point.price)
            }
        }
        return writer.bytes
    }

    /// One bucket record of a bucket span starting at `spanStart`.
    public static func bucketRecord(_ bucket: PriceBucket, spanStart: Int64) -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: 40)
        writer.varint(UInt64((bucket.start.milliseconds - spanStart) / bucket.width))
        writer.varint(bucket.count)
        for price in [bucket.open, bucket.high, bucket.low, bucket.close] { writer.price(price) }
        return writer.bytes
    }

    /// The buckets of a bucket field, ascending, records of one bucket folded together.
    public static func buckets(_ bytes: [UInt8], spanStart: Int64, resolution: RetentionPolicy.Granularity) throws(CorruptSeries) -> [PriceBucket] {
        let width = resolution.bucketMilliseconds
        let slots = resolution.spanMilliseconds / max(width, 1)
        var reader = ByteReader(bytes)
        var byIndex: [Int: PriceBucket] = [:]
        do {
            while !reader.isAtEnd {
                let index = try reader.int()
                let count = try reader.int()
                guard index < slots, count > 0 else { throw CorruptSeries(detail: "bucket \(index) of \(count) points") }
                let bucket = PriceBucket(
                    start: Timestamp(milliseconds: spanStart + Int64(index) * width), width: width,
                    open: try reader.price(), high: try reader.price(), low: try reader.price(), close: try reader.price(), count: count)
                if byIndex[index] == nil { byIndex[index] = bucket } else { byIndex[index]!.absorb(bucket) }
            }
        } catch let error as CorruptSeries {
            throw error
        } catch {
            throw CorruptSeries(detail: "\(error)")
        }
        return byIndex.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The points an asset's field holds in `span`, ascending; a raw span needs its times.
    public static func points(_ field: [UInt8], span: SeriesSpan, times timesField: [UInt8]?) throws(CorruptSeries) -> [PriceBucket] {
        guard span.granularity == .snapshot else { return try buckets(field, spanStart: span.start, resolution: span.granularity) }
        let times = try times(timesField ?? [])
        return try rawPoints(field).map { point throws(CorruptSeries) in
            guard point.ordinal < times.count, let time = Timestamp(plausible: times[point.ordinal]) else {
                throw CorruptSeries(detail: "point \(point.ordinal) has no plausible time among \(times.count)")
            }
            return PriceBucket(point: time, price: point.price)
        }.sorted { $0.start < $1.start }
    }
}
