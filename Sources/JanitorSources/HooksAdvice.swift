import JanitorCore

/// The sentences of `HooksStatus.advice`, the same for every database.
enum HooksAdvice {
    static func advice(
        outbox: String, outboxExists: Bool, remainingTriggers: Int, remainingTables: [String], expectedTriggers: Int, columns: Int,
        missing: Int, stale: Int, disabled: Int, extra: [String]
    ) -> [String] {
        var advice: [String] = []
        let install = "run 'media-janitor hooks install'"
        if !outboxExists && remainingTriggers > 0 {
            let which = remainingTables.isEmpty ? "" : " to \(remainingTables.map { "'\($0)'" }.joined(separator: ", "))"
            advice.append("the outbox table '\(outbox)' is missing but \(count(remainingTriggers, "janitor trigger")) remain: every write of the app\(which) fails until you \(install) (or 'media-janitor hooks uninstall')")
        }
        if !outboxExists && remainingTriggers == 0 {
            advice.append(expectedTriggers == 0
                ? "\(install) to create the outbox table (no configured reference has a path column to watch)"
                : "\(install) to create the outbox table and \(count(expectedTriggers, "trigger")) for \(count(columns, "column"))")
        } else {
            if missing > 0 {
                advice.append("\(install) to recreate \(count(missing, "missing trigger")) (an app migration that rebuilds a table drops its triggers)")
            }
            if stale > 0 {
                advice.append("\(install) to replace \(count(stale, "stale trigger")) (their SQL differs from what this version installs; renaming a table or column rewrites them)")
            }
            if disabled > 0 {
                advice.append("\(install) to re-enable \(count(disabled, "disabled trigger")) (ALTER TABLE ... DISABLE TRIGGER switched them off, and changes of their columns go unseen)")
            }
            if !extra.isEmpty {
                advice.append("\(install) to drop \(count(extra.count, "trigger")) for columns no longer configured: \(extra.joined(separator: ", "))")
            }
        }
        return advice
    }

    static func count(_ n: Int, _ noun: String) -> String {
        "\(n) \(noun)\(n == 1 ? "" : "s")"
    }
}
