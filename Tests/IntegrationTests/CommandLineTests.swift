import Foundation
import Testing

@testable import TopCoins

/// The built executables' command lines: help with defaults, the version, and exit code 2 for
/// every usage mistake (the design's code for usage and config errors).
@Suite("Command lines of the built executables", .timeLimit(.minutes(2)))
struct CommandLineTests {
    static let executables = ["price-fetcher", "rank-fetcher", "merger", "http-api", "history-fetcher", "book-fetcher", "spread-monitor", "exchange-fetcher"]

    /// Runs `product` with `arguments` to its exit. Nothing here reaches a config or Redis.
    static func run(_ product: String, _ arguments: [String]) async throws -> (status: ExitStatus, stdout: String, stderr: String) {
        let child = try ChildProcess(product: product, arguments: arguments)
        let status = try await child.waitForExit(timeout: .seconds(20))
        return (status, child.stdout.text, child.stderr.text)
    }

    /// `text` with every run of white space made one space, so a help line wrapped at the
    /// terminal width still matches.
    static func unwrapped(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test("--help lists every option with its default, on stdout, exit 0", arguments: executables)
    func help(executable: String) async throws {
        let run = try await Self.run(executable, ["--help"])
        #expect(run.status == .exited(0))
        #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
        let help = Self.unwrapped(run.stdout)
        #expect(help.contains("USAGE: \(executable)"), "\(run.stdout)")
        #expect(help.contains("--config <path>"))
        #expect(help.contains("(default: Config/\(executable).json)"), "\(run.stdout)")
        #expect(help.contains("--version"))
        #expect(help.contains("-h, --help"))
        #expect(help.contains("--once") == executable.hasSuffix("-fetcher"))
        if executable == "http-api" {
            #expect(help.contains("--port <n>"))
            #expect(help.contains("(default: the config's port, else 6667)"), "\(run.stdout)")
            #expect(help.contains("--host <address>"))
            #expect(help.contains("(default: the config's host, else 0.0.0.0)"), "\(run.stdout)")
        }
        if executable == "spread-monitor" { #expect(help.contains("SUBCOMMANDS: export"), "\(run.stdout)") }
    }

    @Test("--version prints the project version, exit 0", arguments: executables)
    func version(executable: String) async throws {
        let run = try await Self.run(executable, ["--version"])
        #expect(run.status == .exited(0))
        #expect(run.stdout == TopCoinsVersion.current + "\n")
        #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
    }

    @Test("an unknown option: exit 2, the message and the usage on stderr", arguments: executables)
    func unknownOption(executable: String) async throws {
        let run = try await Self.run(executable, ["--bogus"])
        #expect(run.status == .exited(2))
        #expect(run.stdout.isEmpty, "stdout: \(run.stdout)")
        #expect(run.stderr.contains("Error: Unknown option '--bogus'"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("Usage: \(executable)"), "stderr: \(run.stderr)")
    }

    @Test(
        "usage mistakes exit 2",
        arguments: [
            ("http-api", ["--port", "70000"]), ("http-api", ["--port", "-1"]), ("http-api", ["--port", "six"]),
            ("http-api", ["--once"]), ("merger", ["--config"]), ("price-fetcher", ["--config", "--once"]),
            ("rank-fetcher", ["--port", "1"]), ("merger", ["Config/merger.json"]), ("spread-monitor", ["export"]),
            ("spread-monitor", ["export", "--to", "out", "--until", "noon"]), ("spread-monitor", ["export", "--to", ""]),
        ])
    func usageMistake(executable: String, arguments: [String]) async throws {
        let run = try await Self.run(executable, arguments)
        #expect(run.status == .exited(2), "\(executable) \(arguments): stderr: \(run.stderr)")
        #expect(run.stderr.contains("Error: "), "stderr: \(run.stderr)")
        #expect(run.stdout.isEmpty, "stdout: \(run.stdout)")
    }

    @Test("--port 70000 names the range")
    func portOutOfRange() async throws {
        let run = try await Self.run("http-api", ["--port", "70000"])
        #expect(run.status == .exited(2))
        #expect(run.stderr.contains("--port must be a number from 0 to 65535"), "stderr: \(run.stderr)")
    }

    @Test("a config mistake still exits 2 and names the file")
    func configMistake() async throws {
        let run = try await Self.run("merger", ["--config", "/nonexistent/topcoins/merger.json"])
        #expect(run.status == .exited(2))
        #expect(run.stderr.contains("/nonexistent/topcoins/merger.json"), "stderr: \(run.stderr)")
    }
}
