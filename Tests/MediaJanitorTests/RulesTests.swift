import Foundation
import JanitorCore
import JanitorSources
import Testing

@Suite("Ready rule files")
struct RulesTests {
    static let ruleFiles: [String] = {
        let directory = Janitor.repository.appendingPathComponent("rules").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yml") }.sorted()
    }()

    @Test("rules/ ships the common cases")
    func shipped() {
        #expect(Self.ruleFiles == [
            "chat-media-expiry.yml", "committee-chat-retention.yml", "django-profile-media.yml", "qr-codes.yml", "receipts.yml", "signatures.yml",
        ])
    }

    @Test("each rule file loads without a diagnostic when included from a janitor.yml", arguments: ruleFiles)
    func loads(file: String) throws {
        let scratch = Scratch()
        scratch.write("janitor.yml", """
            version: 1
            media_root: media
            database: sqlite:app.sqlite3
            include: ["\(Janitor.repository.appendingPathComponent("rules").path)/\(file)"]
            """)
        let result = ConfigLoader(files: .disk).load(path: scratch.path + "/janitor.yml", currentDirectory: "/")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))")
        #expect(result.config?.classes.isEmpty == false)
    }

    @Test("all rule files together check cleanly against the sample app's database")
    func allTogether() throws {
        let scratch = Scratch()
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/rules", withDestinationPath: Janitor.repository.appendingPathComponent("rules").path)
        scratch.write("janitor.yml", """
            version: 1
            media_root: \(Sample.directory)/out/media
            database: sqlite:\(Sample.directory)/out/app.sqlite3
            include: ["rules/*.yml"]
            """)
        let outcome = try Janitor.run(["check"], in: scratch.path)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
    }
}
