/// Appends the primitives of the compact snapshot format: LEB128 varints, zigzag for signed
/// numbers, length-prefixed UTF-8.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func varint(_ value: Int) { varint(UInt64(value)) }

    mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func string(_ text: String) {
        varint(text.utf8.count)
        bytes.append(contentsOf: text.utf8)
    }

    /// Marks a price written as text: its mantissa does not fit 64 bits.
    static let textPrice: UInt8 = 0xFF

    /// A price as scale byte + zigzag mantissa, or `textPrice` + its text; digit for digit.
    mutating func price(_ price: DecimalNumber) {
        if let (mantissa, scale) = price.scaled, scale < ByteWriter.textPrice {
            byte(scale)
            signed(mantissa)
        } else {
            byte(ByteWriter.textPrice)
            string(price.text)
        }
    }

    /// A 64-bit big-endian integer, fixed width so that a count of them is a length / 8.
    mutating func fixed(_ value: Int64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> Int64(shift))) }
    }
}

/// Reads what `ByteWriter` wrote; any overrun or bad varint is a `CorruptData` error.
struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    struct CorruptData: Error, CustomStringConvertible {
        let offset: Int
        var description: String { "corrupt snapshot data at byte \(offset)" }
    }

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func varint() throws(CorruptData) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count, shift < 64 else { throw CorruptData(offset: position) }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    mutating func int() throws(CorruptData) -> Int {
        let value = try varint()
        guard value <= UInt64(Int.max) else { throw CorruptData(offset: position) }
        return Int(value)
    }

    mutating func signed() throws(CorruptData) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func byte() throws(CorruptData) -> UInt8 {
        guard position < bytes.count else { throw CorruptData(offset: position) }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func price() throws(CorruptData) -> DecimalNumber {
        let start = position
        let scale = try byte()
        let price = scale == ByteWriter.textPrice ? DecimalNumber(try string()) : DecimalNumber(mantissa: try signed(), scale: scale)
        guard let price else { throw CorruptData(offset: start) }
        return price
    }

    mutating func fixed() throws(CorruptData) -> Int64 {
        guard bytes.count - position >= 8 else { throw CorruptData(offset: position) }
        defer { position += 8 }
        return bytes[position..<position + 8].reduce(0) { $0 << 8 | Int64($1) }
    }

    mutating func string() throws(CorruptData) -> String {
        let length = try int()
        guard length <= bytes.count - position else { throw CorruptData(offset: position) }
        defer { position += length }
        return String(decoding: bytes[position..<position + length], as: UTF8.self)
    }
}
