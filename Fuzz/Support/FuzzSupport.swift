import TopCoins

/// The fuzz input as bytes (libFuzzer may pass a null pointer with a zero count).
func fuzzInput(_ start: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
    guard let start, count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: start, count: count))
}

/// A property every input must keep; breaking it is a crash libFuzzer saves and reports.
func check(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("fuzz property broken: \(message())", file: file, line: line) }
}

/// The repository root, found from this file's place (`<root>/Fuzz/Support/FuzzSupport.swift`;
/// scripts/fuzz compiles it by its absolute path) so the targets read the shipped configs from
/// any working directory.
let repositoryRoot: String = {
    var components = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    components.removeLast(3)
    return components.isEmpty ? "." : components.joined(separator: "/")
}()

/// How the stream-entry target turns bytes into a `StreamEntry`: newline-separated lines, the
/// entry id first, then field name and value lines in turn; an unpaired last name is dropped,
/// as `StreamEntry.parse` drops it. A value cannot hold a newline byte, which costs nothing:
/// the writer escapes newlines, and the JSON target covers raw ones.
enum StreamEntryFraming {
    static func entry(from bytes: [UInt8]) -> StreamEntry {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        let id = String(decoding: lines.first ?? [], as: UTF8.self)
        var fields: [(name: String, value: [UInt8])] = []
        var index = 1
        while index + 1 < lines.count {
            fields.append((String(decoding: lines[index], as: UTF8.self), lines[index + 1]))
            index += 2
        }
        return StreamEntry(id: id, fields: fields)
    }

    static func bytes(of entry: StreamEntry) -> [UInt8] {
        var lines = [Array(entry.id.utf8)]
        for field in entry.fields { lines += [Array(field.name.utf8), field.value] }
        return Array(lines.joined(separator: [0x0A]))
    }
}

/// How the snapshot target splits bytes into the registry entries and the snapshot body: a
/// count byte, then each entry as a length byte and its bytes, then the body. Input that ends
/// early gives fewer entries and an empty body.
enum SnapshotFraming {
    static func split(_ bytes: [UInt8]) -> (registry: [[UInt8]], body: [UInt8]) {
        guard let count = bytes.first else { return ([], []) }
        var position = 1
        var entries: [[UInt8]] = []
        for _ in 0..<count {
            guard position < bytes.count else { break }
            let length = Int(bytes[position])
            let end = min(bytes.count, position + 1 + length)
            entries.append(Array(bytes[(position + 1)..<end]))
            position = end
        }
        return (entries, Array(bytes[min(position, bytes.count)...]))
    }

    static func bytes(registry entries: [[UInt8]], body: [UInt8]) -> [UInt8] {
        precondition(entries.count <= 255 && entries.allSatisfy { $0.count <= 255 })
        var bytes = [UInt8(entries.count)]
        for entry in entries { bytes += [UInt8(entry.count)] + entry }
        return bytes + body
    }
}
