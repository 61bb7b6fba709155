#if canImport(Glibc)
import Glibc
#endif

/// The options every executable takes: `--config PATH`, and per executable `--once`
/// (fetchers), `--port N` and `--host ADDRESS` (http-api).
public struct CommandLineOptions: Sendable {
    public var configPath: String
    public var once = false
    public var port: Int?
    public var host: String?

    /// Parses the arguments; prints usage and exits 2 on anything it does not know.
    public init(executable: String, arguments: [String], allowsOnce: Bool = false, allowsListen: Bool = false) {
        configPath = "Config/\(executable).json"
        var usage = "usage: \(executable) [--config PATH]"
        if allowsOnce { usage += " [--once]" }
        if allowsListen { usage += " [--port N] [--host ADDRESS]" }
        var iterator = arguments.makeIterator()
        func value(_ option: String) -> String {
            guard let value = iterator.next(), !value.hasPrefix("--") else { Exit.usage("\(option) needs a value\n\(usage)") }
            return value
        }
        while let argument = iterator.next() {
            switch argument {
            case "--config": configPath = value(argument)
            case "--once" where allowsOnce: once = true
            case "--port" where allowsListen:
                guard let port = Int(value(argument)), (0...65535).contains(port) else { Exit.usage("--port must be a number from 0 to 65535\n\(usage)") }
                self.port = port
            case "--host" where allowsListen: host = value(argument)
            case "--help", "-h":
                print(usage)
                exit(0)
            default: Exit.usage("unknown argument \(argument)\n\(usage)")
            }
        }
    }
}

/// Process exits with the codes the design fixes: 2 for usage and config errors.
public enum Exit {
    public static func usage(_ message: String) -> Never {
        StandardError.write("\(message)\n")
        exit(2)
    }

    public static func config(_ error: ConfigError, executable: String) -> Never {
        StandardError.write("\(executable): config error: \(error)\n")
        exit(2)
    }
}

/// Unbuffered writes to file descriptor 2, safe from any thread.
public enum StandardError {
    public static func write(_ text: String) { FileDescriptorWriter.write(text, to: 2) }
}

/// Unbuffered writes to file descriptor 1, for lines another process waits to read.
public enum StandardOutput {
    public static func write(_ text: String) { FileDescriptorWriter.write(text, to: 1) }
}

enum FileDescriptorWriter {
    static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { return }
            offset += written
        }
    }
}
