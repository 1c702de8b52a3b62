import Foundation
import JanitorCore
import JanitorReports

/// `GET /`: a small HTML page for a person (queue, usage by class, the latest audit, recent
/// removals). Self-contained (no scripts, no external files), refreshed every 10 seconds.
struct StatusPage {
    let sidecar: Sidecar

    func render() throws -> String {
        let stats = try sidecar.store.queueStats()
        let audit = try sidecar.store.audits(limit: 1).first
        let removals = try sidecar.store.removals(restorableOnly: false, limit: 15)
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>media-janitor</title>
            <style>
            body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2430; background: #fafbfc; }
            h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.05rem; margin: 1.8rem 0 .5rem; }
            .muted { color: #667085; } .cards { display: flex; gap: .8rem; flex-wrap: wrap; }
            .card { background: #fff; border: 1px solid #e3e7ee; border-radius: 8px; padding: .7rem 1rem; min-width: 8rem; }
            .card b { display: block; font-size: 1.35rem; } .bad b { color: #b42318; }
            table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #e3e7ee; }
            th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #eef1f5; } th { background: #f3f5f8; font-weight: 600; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; } code { font-size: .9em; }
            </style></head><body>
            <h1>media-janitor</h1><div class="muted">\(Self.escape(sidecar.config.mediaRootSetting)) &middot; \(Self.escape(Date().iso8601))</div>
            <h2>Queue</h2><div class="cards">
            <div class="card"><b>\(stats.totalPending)</b>pending</div>
            <div class="card\(stats.dead > 0 ? " bad" : "")"><b>\(stats.dead)</b>dead</div>
            <div class="card"><b>\(stats.done)</b>done</div>
            <div class="card"><b>\(stats.oldestQueued.map { Self.escape($0.iso8601) } ?? "&ndash;")</b>oldest pending</div>
            </div>
            <h2>Usage by class</h2>
            <table><tr><th>class</th><th>files</th><th>size</th></tr>

            """
        for (index, mediaClass) in sidecar.config.classes.enumerated() {
            let totals = sidecar.usage.totals(ofClass: index)
            html += "<tr><td>\(Self.escape(mediaClass.name))</td><td class=\"n\">\(totals.files)</td><td class=\"n\">\(Self.escape(humanSize(totals.bytes)))</td></tr>\n"
        }
        html += "</table>\n<h2>Latest audit</h2>\n"
        if let audit {
            let summary = audit.summary
            html += """
                <div class="cards"><div class="card"><b>\(summary.files)</b>files</div><div class="card\(summary.orphans > 0 ? " bad" : "")"><b>\(summary.orphans)</b>orphans (\(Self.escape(humanSize(summary.orphanBytes))))</div>
                <div class="card"><b>\(summary.missing)</b>missing</div><div class="card"><b>\(summary.unclassified)</b>unclassified</div></div>
                <p class="muted">\(Self.escape(audit.generatedAt.iso8601))</p>

                """
        } else {
            html += "<p class=\"muted\">No audit recorded yet: run <code>media-janitor scan</code> or set <code>schedule.audit</code>.</p>\n"
        }
        html += "<h2>Recent removals</h2>\n"
        if removals.isEmpty {
            html += "<p class=\"muted\">Nothing removed yet.</p>\n"
        } else {
            html += "<table><tr><th>when</th><th>path</th><th>class</th><th>size</th><th>reason</th></tr>\n"
            for record in removals {
                html += "<tr><td>\(Self.escape(record.removedAt.iso8601))</td><td><code>\(Self.escape(record.path))</code></td><td>\(Self.escape(record.className))</td>"
                    + "<td class=\"n\">\(Self.escape(humanSize(record.bytes)))</td><td>\(Self.escape(record.reason))</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html + "</body></html>\n"
    }

    /// HTML text escaping: file names and reasons come from users.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
