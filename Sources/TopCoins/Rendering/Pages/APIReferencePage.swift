/// The API reference as one HTML page, rendered from the OpenAPI document itself (its JSON
/// form, `OpenAPIDocument.structure`): every path and operation in document order with its
/// parameters (where, required, type, default, allowed values), its responses and a `curl`
/// command to run. Nothing is written per path here, so a path added to `oas.yaml` appears
/// with the next build. `$ref`s to the document's components are followed; descriptions are
/// shown with the little Markdown they use (paragraphs, lists, headings, `code`, **bold**).
struct APIReferencePage {
    let document: JSONValue

    static let methods = ["get", "head", "post", "put", "patch", "delete", "options"]

    static let style = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa;line-height:1.45}
        main{max-width:1040px;margin:0 auto;padding:8px 16px 32px}h1{font-size:24px}h2{font-size:19px;margin:0 0 8px}
        section.path{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:14px 0}
        .operation{border-top:1px solid #eaeef2;padding-top:8px;margin-top:8px}.method{font-weight:700;color:#0969da}
        table{border-collapse:collapse;width:100%;font-size:14px}th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
        code{background:#eff1f3;padding:1px 4px;border-radius:4px;font-size:90%}pre{background:#1b1f24;color:#f6f8fa;padding:8px 12px;border-radius:6px;overflow-x:auto}
        pre code{background:none;padding:0}nav ul{columns:2}.muted{color:#57606a}td p{margin:0 0 4px}
        """

    var html: String {
        let info = document["info"]
        let title = APIReferencePage.text(info?["title"]) ?? "API reference"
        var html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        // No icon to fetch: a browser asks for /favicon.ico otherwise.
        html += "<link rel=\"icon\" href=\"data:,\">"
        html += "<title>\(SVGText.escaped(title))</title><style>\(APIReferencePage.style)</style></head><body><main>"
        html += "<h1>\(SVGText.escaped(title)) <span class=\"muted\">\(SVGText.escaped(APIReferencePage.text(info?["version"]) ?? ""))</span></h1>"
        html +=
            "<p class=\"muted\">Rendered from this server's <a href=\"/openapi.yaml\">OpenAPI document</a>. Base URL: <code>\(SVGText.escaped(baseURL))</code></p>"
        let paths = APIReferencePage.members(document["paths"])
        html += "<nav><h2>Paths</h2><ul>"
        for (path, item) in paths {
            let methods = APIReferencePage.methods.filter { item[$0] != nil }.map { $0.uppercased() }.joined(separator: " ")
            html +=
                "<li><a href=\"#\(APIReferencePage.anchor(path))\"><code>\(SVGText.escaped(path))</code></a> <span class=\"muted\">\(methods)</span></li>"
        }
        html += "</ul></nav>"
        html += APIReferencePage.markdown(APIReferencePage.text(info?["description"]) ?? "")
        for (path, item) in paths {
            html +=
                "<section class=\"path\" id=\"\(APIReferencePage.anchor(path))\" data-path=\"\(SVGText.escaped(path))\"><h2><code>\(SVGText.escaped(path))</code></h2>"
            let shared = APIReferencePage.elements(item["parameters"])
            for method in APIReferencePage.methods {
                guard let operation = item[method] else { continue }
                html += self.operation(method, path: path, operation, shared: shared)
            }
            html += "</section>"
        }
        return html + "</main></body></html>\n"
    }

    var baseURL: String {
        APIReferencePage.elements(document["servers"]).first.flatMap { APIReferencePage.text($0["url"]) } ?? "http://localhost:6667"
    }

    func operation(_ method: String, path: String, _ operation: JSONValue, shared: [JSONValue]) -> String {
        var html = "<div class=\"operation\"><h3><span class=\"method\">\(method.uppercased())</span> <code>\(SVGText.escaped(path))</code>"
        if let summary = APIReferencePage.text(operation["summary"]) { html += " · \(SVGText.escaped(summary))" }
        html += "</h3>" + APIReferencePage.markdown(APIReferencePage.text(operation["description"]) ?? "")
        let parameters = (shared + APIReferencePage.elements(operation["parameters"])).map(resolve)
        if !parameters.isEmpty {
            html +=
                "<table class=\"parameters\"><thead><tr><th>Parameter</th><th>In</th><th>Type</th><th>Default</th><th>Description</th></tr></thead><tbody>"
            for parameter in parameters {
                let schema = resolve(parameter["schema"] ?? .null)
                let required = parameter["required"] == .bool(true) ? " <span class=\"muted\">required</span>" : ""
                html += "<tr><td><code>\(SVGText.escaped(APIReferencePage.text(parameter["name"]) ?? "?"))</code>\(required)</td>"
                html +=
                    "<td>\(SVGText.escaped(APIReferencePage.text(parameter["in"]) ?? ""))</td><td>\(SVGText.escaped(APIReferencePage.describe(schema)))</td>"
                html += "<td>\(APIReferencePage.text(schema["default"]).map { "<code>\(SVGText.escaped($0))</code>" } ?? "")</td>"
                html += "<td>\(APIReferencePage.markdown(APIReferencePage.text(parameter["description"]) ?? ""))</td></tr>"
            }
            html += "</tbody></table>"
        }
        let responses = APIReferencePage.members(operation["responses"])
        if !responses.isEmpty {
            html += "<table class=\"responses\"><thead><tr><th>Status</th><th>Content</th><th>Description</th></tr></thead><tbody>"
            for (status, response) in responses {
                let response = resolve(response)
                let content = APIReferencePage.members(response["content"]).map { "<code>\(SVGText.escaped($0.0))</code>" }.joined(separator: " ")
                html += "<tr><td>\(SVGText.escaped(status))</td><td>\(content)</td>"
                html += "<td>\(APIReferencePage.markdown(APIReferencePage.text(response["description"]) ?? ""))</td></tr>"
            }
            html += "</tbody></table>"
        }
        return html
            + "<pre><code>\(SVGText.escaped(curl(method, path: path, parameters: parameters, responses: responses.map { resolve($0.1) })))</code></pre></div>"
    }

    /// A command that runs as printed: path parameters and the query filled from the document's
    /// examples (a path parameter without one gets `1`, the CMC id of Bitcoin).
    func curl(_ method: String, path: String, parameters: [JSONValue], responses: [JSONValue]) -> String {
        var filled = path
        var query: [String] = []
        for parameter in parameters {
            guard let name = APIReferencePage.text(parameter["name"]) else { continue }
            let example = APIReferencePage.text(parameter["example"]) ?? APIReferencePage.text(resolve(parameter["schema"] ?? .null)["example"])
            switch APIReferencePage.text(parameter["in"]) {
            case "path": filled = filled.split(separator: "{\(name)}", omittingEmptySubsequences: false).joined(separator: example ?? "1")
            case "query": if let example { query.append("\(name)=\(example)") }
            default: break
            }
        }
        let url = baseURL + filled + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let types = responses.flatMap { APIReferencePage.members($0["content"]).map(\.0) }
        let option =
            method == "head"
            ? "-I " : method != "get" ? "-X \(method.uppercased()) " : types.contains { $0.hasPrefix("image/") } ? "-o chart.svg " : ""
        return "curl \(option)'\(url)'"
    }

    /// Follows a `$ref` into this document (a few levels at most: a cycle is not followed).
    func resolve(_ value: JSONValue) -> JSONValue {
        var value = value
        for _ in 0..<8 {
            guard let reference = APIReferencePage.text(value["$ref"]), reference.hasPrefix("#/") else { return value }
            var target: JSONValue? = document
            for part in reference.dropFirst(2).split(separator: "/") {
                target = target?[String(part.replacing("~1", with: "/").replacing("~0", with: "~"))]
            }
            guard let found = target else { return value }
            value = found
        }
        return value
    }

    /// A schema's type in a few words: `integer 1..5000`, `string: json | csv`.
    static func describe(_ schema: JSONValue) -> String {
        var text = APIReferencePage.text(schema["type"]) ?? (schema["$ref"] != nil ? "object" : "")
        if let format = APIReferencePage.text(schema["format"]) { text += " (\(format))" }
        let choices = elements(schema["enum"]).compactMap { APIReferencePage.text($0) }
        if !choices.isEmpty { text += ": " + choices.joined(separator: " | ") }
        let (minimum, maximum) = (APIReferencePage.text(schema["minimum"]), APIReferencePage.text(schema["maximum"]))
        if minimum != nil || maximum != nil { text += " \(minimum ?? "")..\(maximum ?? "")" }
        if let items = schema["items"] { text += " of " + describe(items) }
        return text
    }

    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?, .number(let text)?: text
        case .bool(let flag)?: flag ? "true" : "false"
        case .array(let elements)?: elements.compactMap { text($0) }.joined(separator: ",")
        default: nil
        }
    }

    static func members(_ value: JSONValue?) -> [(String, JSONValue)] {
        if case .object(let object)? = value { return Array(object.members) }
        return []
    }

    static func elements(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let elements)? = value { return elements }
        return []
    }

    /// An element id for a path: letters and digits kept, the rest as `-`.
    static func anchor(_ path: String) -> String {
        "path" + String(path.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    /// The Markdown descriptions use: blank-line separated blocks of headings (`#`), list items
    /// (lines starting `* ` or `- `, continued by the lines after them) and paragraphs.
    static func markdown(_ text: String) -> String {
        var html = ""
        for block in text.split(separator: "\n\n", omittingEmptySubsequences: true) {
            var paragraph: [String] = []
            var items: [String] = []
            func flush() {
                if !paragraph.isEmpty { html += "<p>\(inline(paragraph.joined(separator: " ")))</p>" }
                if !items.isEmpty { html += "<ul>" + items.map { "<li>\(inline($0))</li>" }.joined() + "</ul>" }
                (paragraph, items) = ([], [])
            }
            for line in block.split(separator: "\n").map({ $0.trimmingCharacters(in: " ") }) where !line.isEmpty {
                if line.hasPrefix("#") {
                    flush()
                    html += "<h4>\(inline(String(line.drop { $0 == "#" }).trimmingCharacters(in: " ")))</h4>"
                } else if line.hasPrefix("* ") || line.hasPrefix("- ") {
                    if !paragraph.isEmpty, items.isEmpty { flush() }
                    items.append(String(line.dropFirst(2)))
                } else if !items.isEmpty {
                    items[items.count - 1] += " " + line
                } else {
                    paragraph.append(line)
                }
            }
            flush()
        }
        return html
    }

    /// Escapes `text`, then shows `code` spans and **bold**.
    static func inline(_ text: String) -> String {
        var html = ""
        for (index, part) in text.split(separator: "`", omittingEmptySubsequences: false).enumerated() {
            let escaped = SVGText.escaped(String(part))
            if index % 2 == 1 {
                html += "<code>\(escaped)</code>"
            } else {
                for (boldIndex, piece) in escaped.split(separator: "**", omittingEmptySubsequences: false).enumerated() {
                    html += boldIndex % 2 == 1 ? "<strong>\(piece)</strong>" : String(piece)
                }
            }
        }
        return html
    }
}
