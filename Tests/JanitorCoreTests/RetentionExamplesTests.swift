import Foundation
import Testing

@testable import JanitorCore

/// Runs every retention policy's own examples (STYLE item 3): the YAML is loaded through the
/// real config loader, so an example whose YAML no longer parses fails here too.
@Suite("Retention policy examples")
struct RetentionExamplesTests {
    static let cases: [(String, Int)] = RetentionExample.all.flatMap { entry in entry.examples.indices.map { (entry.policy, $0) } }

    @Test("each policy selects exactly what its examples say", arguments: cases)
    func example(policy: String, index: Int) throws {
        let example = try #require(RetentionExample.all.first { $0.policy == policy }).examples[index]
        let config = """
            version: 1
            media_root: media
            database: sqlite:app.sqlite3
            classes:
              chat:
                paths: ["chat/**"]
                references:
                  - {table: chat_message, column: image, key: id, created: created_at, owner: sender_id, group: room_id}
                retention: \(example.yaml)
            """
        let result = InMemoryConfig(config).load()
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics)")
        let rules = try #require(result.config?.classes.first?.retention)
        let plan = RetentionPlanner(rules: rules).plan(example.rows, ownerLimits: example.ownerLimits, now: RetentionExample.now)
        #expect(plan.map { example.rows[$0.row].key } == example.selects, "\(policy) example \(index): \(example.yaml)")
        #expect(plan.allSatisfy { $0.reason.policy.hasPrefix(policy) })
    }

    @Test("every policy has a triggering and a non-triggering example")
    func coverage() {
        for (policy, examples) in RetentionExample.all {
            #expect(examples.contains { !$0.selects.isEmpty }, "\(policy) has no triggering example")
            #expect(examples.contains { $0.selects.isEmpty }, "\(policy) has no non-triggering example")
        }
        #expect(Set(RetentionExample.all.map(\.policy)) == Set(ConfigLoader.retentionKeys).subtracting(["row_action", "max_age_per_owner"]))
    }
}
