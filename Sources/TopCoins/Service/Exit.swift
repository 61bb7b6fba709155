#if canImport(Glibc)
import Glibc
#endif

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
