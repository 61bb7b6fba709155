import Foundation
import Testing

@testable import TopCoins

@Suite("The OpenAPI document built into http-api", .timeLimit(.minutes(2)))
struct OpenAPIDocumentTests {
    /// An operator's copy of the shipped config, kept away from the repository (as in
    /// `/etc/topcoins/`), with nothing beside it: `/openapi.yaml` is still `oas.yaml`.
    @Test("a copy of Config/http-api.json elsewhere serves oas.yaml byte for byte")
    func servedFromACopiedConfig() async throws {
        try await TestBed.with { bed in
            let shipped = BuildProducts.packageRoot.appendingPathComponent("Config/http-api.json")
            let copy = bed.directory.url.appendingPathComponent("etc-topcoins")
            try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
            let config = copy.appendingPathComponent("http-api.json")
            try FileManager.default.copyItem(at: shipped, to: config)
            let process = try bed.start(
                "http-api", arguments: ["--config", config.path, "--port", "0", "--host", "127.0.0.1"], currentDirectory: copy)
            let api = try await APIServer.listening(process)
            let served = try await api.request("/openapi.yaml")
            #expect(served.status == 200)
            #expect(served.header("Content-Type")?.hasPrefix("application/yaml") == true)
            let document = Array(try Data(contentsOf: BuildProducts.packageRoot.appendingPathComponent("oas.yaml")))
            #expect(served.body == document, "served \(served.body.count) bytes, oas.yaml has \(document.count)")
            #expect(try await api.process.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }
}
