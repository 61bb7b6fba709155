import Testing

@testable import TopCoins

struct OpenAPIDocumentTests {
    @Test func theBuiltInDocumentIsTheRepositorysOASYAML() throws {
        let file = try #require(ConfigFile.readFile(PackagePaths.file("oas.yaml")), "cannot read oas.yaml")
        // Compared outside #expect, which would print both documents' bytes.
        let embedded = OpenAPIDocument.bytes
        let firstDifference = zip(embedded, file).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(embedded.count, file.count)
        let upToDate = embedded == file
        #expect(
            upToDate,
            """
            Sources/TopCoins/API/OpenAPIDocument.swift is not oas.yaml (\(embedded.count) bytes against \(file.count), \
            first difference at byte \(firstDifference)): run scripts/generate-openapi-source and commit the result
            """)
    }

    @Test func anAPIConfigWithoutOpenAPIPathServesTheBuiltInDocument() throws {
        // A config far from any oas.yaml, as an operator's /etc/topcoins/http-api.json is.
        let config = try APIConfig(reading: ConfigObject.parse(file: "/nonexistent/topcoins/http-api.json", bytes: Array("{}".utf8), environment: [:]))
        #expect(config.openAPIDocument == OpenAPIDocument.bytes)
    }

    @Test func openAPIPathStillOverridesAndAMissingFileNamesTheKey() throws {
        let shipped = PackagePaths.file("Config/http-api.json")
        let relative = try APIConfig(reading: ConfigObject.parse(file: shipped, bytes: Array(#"{"openapi_path": "../oas.yaml"}"#.utf8), environment: [:]))
        #expect(relative.openAPIDocument == ConfigFile.readFile(PackagePaths.file("oas.yaml")))
        let error = #expect(throws: ConfigError.self) {
            _ = try APIConfig(reading: ConfigObject.parse(file: shipped, bytes: Array(#"{"openapi_path": "no-such.yaml"}"#.utf8), environment: [:]))
        }
        #expect(error?.file == shipped)
        #expect(error?.keyPath == "openapi_path")
        #expect(error?.message.contains("no-such.yaml") == true)
    }
}
