import ArgumentParser
import TopCoins

/// The root command of a TopCoins executable. ArgumentParser gives it `--help` (each option
/// with its default) and `--version`; `start()` gives it the design's exit codes. A later
/// subcommand (`spread-monitor export`) is one more entry in the root's `subcommands`, while the
/// root's own `run()` stays the long-running service.
public protocol ServiceCommand: AsyncParsableCommand {}

extension ServiceCommand {
    /// Parses `arguments` (the process's own when nil), runs the command or subcommand they
    /// name, and exits. `--help` and `--version` print to stdout and exit 0. A usage mistake
    /// (unknown option, missing or invalid value) prints the message and the usage to stderr
    /// and exits 2, as a config mistake does, instead of ArgumentParser's 64 (`EX_USAGE`).
    public static func start(_ arguments: [String]? = nil) async -> Never {
        do {
            var command = try await asyncParseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            StandardError.write(fullMessage(for: error) + "\n")
            exit(withError: ExitCode.usage)
        }
        exit(withError: nil)
    }
}

extension ExitCode {
    /// The design's exit code for a usage or config mistake.
    public static let usage = ExitCode(2)
}

extension CommandConfiguration {
    /// A TopCoins executable's configuration: its name, what it does, the environment and exit
    /// codes it shares with the others (plus its own `environment` and `exitCodes`), and the
    /// project's version.
    static func service(_ name: String, abstract: String, environment: String = "", exitCodes: String = "") -> CommandConfiguration {
        CommandConfiguration(
            commandName: name,
            abstract: abstract,
            discussion: """
                REDIS_URL (redis://[:password@]host:port[/db], unix:///path/redis.sock or \
                redis-sentinel://[:password@]host:port,.../name[?db=N&sentinel_password=...]) \
                overrides the config's redis.url.\(environment)

                Exit codes: 0 after SIGTERM or SIGINT (a graceful shutdown), 2 for a usage or config \
                mistake\(exitCodes).
                """,
            version: TopCoinsVersion.current
        )
    }
}
