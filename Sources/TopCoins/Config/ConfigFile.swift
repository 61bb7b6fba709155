#if canImport(Glibc)
import Glibc
#endif

/// Reading a config file from disk.
public enum ConfigFile {
    /// Loads `path` and hands its top-level object to `read`; every failure is a
    /// `ConfigError` naming the file.
    public static func load<T>(_ path: String, environment: [String: String], _ read: (ConfigObject) throws(ConfigError) -> T) throws(ConfigError) -> T {
        guard let bytes = readFile(path) else {
            throw ConfigError(file: path, keyPath: "", message: "cannot read the file: \(String(cString: strerror(errno)))")
        }
        return try read(try ConfigObject.parse(file: path, bytes: bytes, environment: environment))
    }

    /// The whole file, or nil when it cannot be read.
    public static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if count < chunk.count { break }
        }
        return ferror(file) == 0 ? bytes : nil
    }

    /// The process environment as a dictionary.
    public static var processEnvironment: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
