import Testing

@testable import JanitorCore

/// An app as `init` sees it: tables, sampled column values and the walk of the media root.
struct InitWorld {
    var tables: [InspectedTable] = []
    var samples: [ColumnSample] = []
    var listing = Listing()

    mutating func table(_ name: String, key: [String] = ["id"], _ columns: [String: [String]]) {
        let names = columns.keys.sorted()
        tables.append(InspectedTable(name: name, columns: key + names, textColumns: names, primaryKey: key))
        for column in names { samples.append(ColumnSample(table: name, column: column, values: columns[column]!)) }
    }

    mutating func files(_ paths: [String]) {
        for path in paths { listing.append(path, size: 10, mtime: 0) }
    }

    var findings: [ColumnFinding] { MediaColumnDetector(mediaRoot: "/srv/media").examine(samples, listing: listing) }
    var starter: StarterConfig { StarterConfig.build(tables: tables, findings: findings, listing: listing) }

    func finding(_ name: String) -> ColumnFinding? { findings.first { $0.qualifiedName == name } }
}

/// `n` paths like `dir/nameN.ext`.
func numbered(_ count: Int, _ prefix: String, _ ext: String = "jpg") -> [String] {
    (1...count).map { "\(prefix)\($0).\(ext)" }
}

@Suite("init: which columns hold media paths")
struct MediaColumnDetectorTests {
    let detector = MediaColumnDetector(mediaRoot: "/srv/media")

    @Test("a relative path of a file with an extension is a path, normalised; text, numbers, addresses and bare names are not")
    func shapes() {
        #expect(detector.shape(of: "avatars/a.jpg") == .path("avatars/a.jpg"))
        #expect(detector.shape(of: "./avatars//a.JPG") == .path("avatars/a.JPG"))
        #expect(detector.shape(of: "report.pdf") == .path("report.pdf"))
        #expect(detector.shape(of: "/srv/media/avatars/a.jpg") == .insideRoot("avatars/a.jpg"))
        #expect(detector.shape(of: "avatars/../docs/a.pdf") == .insideRoot("docs/a.pdf"))
        #expect(detector.shape(of: "https://cdn.example.com/a.jpg") == .url)
        for value in ["Hello world", "1.5", "v1.2.3", "ann@example.com", "www.example.com", "avatars/", "/etc/passwd", "../../etc/passwd", "no-extension", ".env", "a.b c", "line\nbreak.jpg"] {
            #expect(detector.shape(of: value) == .other, "\(value)")
        }
    }

    @Test("a column is media when most values are paths and most of those exist; paths that are not on disk, a MEDIA_URL prefix, and text are told apart")
    func verdicts() {
        var world = InitWorld()
        world.files(numbered(10, "avatars/u"))
        world.table("accounts_user", [
            "avatar": numbered(9, "avatars/u") + ["avatars/gone.jpg"],
            "legacy": numbered(10, "old/u"),
            "photo_url": numbered(8, "/media/avatars/u") + ["x", "y"],
            "username": (1...10).map { "user\($0)" },
            "bio": ["likes photo.jpg a lot", "see avatars/u1.jpg", "hi"],
            "social": ["https://example.com/a.png", "https://example.com/b.png"] + numbered(3, "avatars/u"),
        ])
        let avatar = world.finding("accounts_user.avatar")
        #expect(avatar?.verdict == .media)
        #expect(avatar?.sampled == 10)
        #expect(avatar?.paths.count == 10)
        #expect(avatar?.existing == 9)
        #expect(world.finding("accounts_user.legacy")?.verdict == .notOnDisk)
        #expect(world.finding("accounts_user.photo_url")?.verdict == .prefixed("/media/"))
        #expect(world.finding("accounts_user.photo_url")?.prefixed == 8)
        #expect(world.finding("accounts_user.username")?.verdict == ColumnFinding.Verdict.none)
        #expect(world.finding("accounts_user.bio")?.verdict == ColumnFinding.Verdict.none)
        let social = world.finding("accounts_user.social")
        #expect(social?.verdict == .media)
        #expect(social?.urls == 2)
    }

    @Test("paths mostly missing from the media root do not make a class, however path-like")
    func halfMissing() {
        var world = InitWorld()
        world.files(numbered(4, "avatars/u"))
        world.table("accounts_user", ["avatar": numbered(10, "avatars/u")])
        #expect(world.finding("accounts_user.avatar")?.existing == 4)
        #expect(world.finding("accounts_user.avatar")?.verdict == .notOnDisk)
        #expect(world.starter.classes.isEmpty)
    }
}

@Suite("init: the starter config")
struct StarterConfigTests {
    @Test("one class per top-level directory, with every column that points there; the key is the primary key")
    func classPerDirectory() throws {
        var world = InitWorld()
        world.files(numbered(20, "avatars/u") + numbered(20, "forum/2024/p") + numbered(5, "forum/2025/p"))
        world.table("accounts_user", ["avatar": numbered(20, "avatars/u"), "signature": numbered(3, "avatars/u"), "name": ["a", "b"]])
        world.table("forum_post", key: ["post_id"], ["image": numbered(20, "forum/2024/p") + numbered(5, "forum/2025/p")])
        let starter = world.starter
        #expect(starter.classes.map(\.name) == ["avatars", "forum"])
        #expect(starter.classes[0].paths == ["avatars/**"])
        #expect(starter.classes[0].references.map(\.column) == ["avatar", "signature"])
        #expect(starter.classes[1].paths == ["forum/**"])
        #expect(starter.classes[1].references == [StarterConfig.Reference(table: "forum_post", column: "image", key: "post_id", keyNote: nil)])
        #expect(starter.leftovers.isEmpty)
        #expect(starter.tables == 2)
        #expect(starter.textColumns == 4)
    }

    @Test("a column spread over several directories joins them into one class, and says so")
    func spanning() {
        var world = InitWorld()
        world.files(numbered(6, "avatars/u") + numbered(4, "photos/u") + numbered(5, "docs/d", "pdf"))
        world.table("accounts_user", ["avatar": numbered(6, "avatars/u") + numbered(4, "photos/u")])
        world.table("doc", ["file": numbered(5, "docs/d", "pdf")])
        let starter = world.starter
        #expect(starter.classes.map(\.name) == ["accounts_user_avatar", "docs"])
        #expect(starter.classes[0].paths == ["avatars/**", "photos/**"])
        #expect(starter.classes[0].notes.contains("accounts_user.avatar spans several directories (avatars/ 60%, photos/ 40%): one class covers them all"))
    }

    @Test("a few paths in another class's directory join no class but are noted; in a directory no class claims, they stay unclassified")
    func minorDirectories() {
        var world = InitWorld()
        world.files(numbered(40, "avatars/u") + numbered(40, "signatures/s", "png") + ["legacy/x1.png"])
        world.table("accounts_user", [
            "avatar": numbered(40, "avatars/u"),
            "signature": numbered(40, "signatures/s", "png") + ["avatars/u1.jpg", "legacy/x1.png"],
        ])
        let starter = world.starter
        #expect(starter.classes.map(\.name) == ["avatars", "signatures"])
        #expect(starter.classes[1].references.map(\.column) == ["signature"])
        #expect(starter.classes[1].notes.contains("accounts_user.signature also holds 1 path under avatars/ (class avatars): every reference column protects its files, whatever the class"))
        #expect(starter.classes[1].notes.contains("accounts_user.signature also holds 1 path under legacy/, which no class claims: a scan lists those files as unclassified"))
        #expect(starter.leftovers == [StarterConfig.Leftover(directory: "legacy/", files: 1, example: "legacy/x1.png")])
    }

    @Test("a subdirectory with a word name and no sampled path is left out of the class; date-like siblings are not")
    func refinement() {
        var world = InitWorld()
        world.files(numbered(5, "chat/images/c") + numbered(5, "chat/videos/c", "mp4") + ["chat/audio/a.ogg", "chat/audio/b.ogg"])
        world.files(numbered(5, "forum/2024/p") + numbered(3, "forum/2023/p"))
        world.table("chat_message", ["image": numbered(5, "chat/images/c"), "video": numbered(5, "chat/videos/c", "mp4")])
        world.table("forum_post", ["image": numbered(5, "forum/2024/p")])
        let starter = world.starter
        #expect(starter.classes.map(\.paths) == [["chat/images/**", "chat/videos/**"], ["forum/**"]])
        #expect(starter.leftovers == [StarterConfig.Leftover(directory: "chat/audio/", files: 2, example: "chat/audio/a.ogg")])
        #expect(starter.classes[0].notes.contains { $0.hasPrefix("chat/audio/ holds 2 files and no sampled path: left out of this class") })
    }

    @Test("files named after sampled paths become derivative patterns; an upload handler's clash suffixes and unrelated files do not")
    func derivatives() {
        var world = InitWorld()
        let pictures = numbered(20, "pics/u")
        world.files(pictures)
        world.files((1...20).flatMap { ["pics/thumbs/u\($0)_64x64.jpg", "pics/thumbs/u\($0)_256x256.jpg"] })
        world.files((1...6).map { "pics/u\($0).webp" })
        world.files((1...6).map { "pics/u\($0)_x7Kp2Qd.jpg" })  // Django's answer to a name clash: separate uploads
        world.files(["pics/thumbs/gone_64x64.jpg", "pics/other.webp"])
        world.table("accounts_user", ["picture": pictures])
        let mediaClass = world.starter.classes[0]
        #expect(mediaClass.paths == ["pics/**"])
        #expect(mediaClass.derivatives == [
            StarterConfig.Derivative(pattern: "{dir}/thumbs/{stem}_*.{ext}", files: 40),
            StarterConfig.Derivative(pattern: "{dir}/{stem}.webp", files: 6),
        ])
    }

    @Test("a placeholder the app ships in a class directory is excluded, referenced or not")
    func placeholders() {
        var world = InitWorld()
        world.files(numbered(10, "avatars/u") + ["avatars/default.png", "avatars/placeholder.svg", "avatars/defaultish.txt", "avatars/u/default.png"])
        world.table("accounts_user", ["avatar": numbered(10, "avatars/u") + ["avatars/default.png"]])
        #expect(world.starter.classes[0].exclude == ["avatars/default.png", "avatars/defaultish.txt", "avatars/placeholder.svg"])
    }

    @Test("paths at the top of the media root claim only their extensions there")
    func topLevel() {
        var world = InitWorld()
        world.files(numbered(5, "a") + numbered(2, "b", "png") + ["README.txt"])
        world.table("upload", ["file": numbered(5, "a") + numbered(2, "b", "png")])
        let starter = world.starter
        #expect(starter.classes.map(\.name) == ["upload_file"])
        #expect(starter.classes[0].paths == ["*.jpg", "*.png"])
        #expect(starter.leftovers == [StarterConfig.Leftover(directory: "", files: 1, example: "README.txt")])
    }

    @Test("without a single-column primary key the key falls back, with a note to review")
    func keys() throws {
        #expect(StarterConfig.key(of: InspectedTable(name: "t", columns: ["a", "b"], textColumns: [], primaryKey: ["b", "a"]))?.column == "b")
        #expect(StarterConfig.key(of: InspectedTable(name: "t", columns: ["a", "b"], textColumns: [], primaryKey: ["b", "a"]))?.note?.hasPrefix("composite primary key (b, a)") == true)
        #expect(StarterConfig.key(of: InspectedTable(name: "t", columns: ["x", "id"], textColumns: [], primaryKey: []))?.column == "id")
        #expect(StarterConfig.key(of: InspectedTable(name: "t", columns: ["x", "y"], textColumns: [], primaryKey: []))?.column == "x")
        #expect(StarterConfig.key(of: InspectedTable(name: "t", columns: [], textColumns: [], primaryKey: [])) == nil)
    }

    @Test("the janitor's own tables are never inspected as the app's")
    func janitorTables() {
        #expect(StarterConfig.isJanitorTable("janitor_outbox"))
        #expect(StarterConfig.isJanitorTable("public.janitor_queue_item"))
        #expect(!StarterConfig.isJanitorTable("accounts_user"))
    }

    @Test("relative paths from the config's directory")
    func relativePaths() {
        #expect(FilePath.relative("/app/media", from: "/app") == "media")
        #expect(FilePath.relative("/app", from: "/app") == ".")
        #expect(FilePath.relative("/srv/media", from: "/app/conf") == "../../srv/media")
        #expect(FilePath.relative("/app/data/app.sqlite3", from: "/app/conf") == "../data/app.sqlite3")
    }

    @Test("the YAML loads without a diagnostic into the classes worked out, and says what was found")
    func yamlLoads() throws {
        var world = InitWorld()
        world.files(numbered(20, "avatars/u") + (1...20).map { "avatars/thumbs/u\($0)_64x64.jpg" } + ["avatars/default.png"])
        world.files(numbered(8, "chat/images/c") + ["chat/audio/a.ogg", "tmp/x.part"])
        world.table("accounts_user", ["avatar": numbered(20, "avatars/u"), "name": ["ann", "bob"]])
        world.table("chat_message", key: ["msg_id", "room_id"], ["image": numbered(8, "chat/images/c") + ["https://x.example/a.jpg"]])
        world.table("legacy", ["photo": numbered(5, "/media/avatars/u")])
        let starter = world.starter
        let text = starter.yaml(StarterConfig.Target(database: "sqlite:app.sqlite3", databaseShown: "sqlite:app.sqlite3", mediaRoot: "media", sampleLimit: 1000, entries: world.listing.count))
        let loaded = InMemoryConfig(text).load()
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)\n\(text)")
        let config = try #require(loaded.config)
        #expect(config.classes.map(\.name) == ["avatars", "chat"])
        #expect(config.classes[0].paths.map(\.pattern) == ["avatars/**"])
        #expect(config.classes[0].exclude.map(\.pattern) == ["avatars/default.png"])
        #expect(config.classes[0].derivatives.map(\.pattern) == ["{dir}/thumbs/{stem}_*.{ext}"])
        #expect(config.classes[0].references == [ReferenceColumn(table: "accounts_user", column: "avatar", key: "id", location: config.classes[0].references[0].location)])
        #expect(config.classes[1].paths.map(\.pattern) == ["chat/images/**"])
        #expect(config.classes[1].references.map(\.key) == ["msg_id"])
        #expect(config.classes.allSatisfy { $0.retention == nil })
        #expect(config.mediaRoot == "/app/media")
        #expect(config.database == .sqlite(path: "/app/app.sqlite3"))
        for line in [
            "  # accounts_user.avatar: 20 of 20 sampled values are paths; 20 exist under the media root",
            "      - {table: chat_message, column: image, key: msg_id}  # composite primary key (msg_id, room_id): 'key' names one column, enough for scan and clean; review before retention",
            "#   chat/audio/: 1 file (e.g. chat/audio/a.ogg)",
            "#   tmp/: 1 file (e.g. tmp/x.part)",
            "#   WARNING legacy.photo: 5 of 5 sampled values name files under the media root once '/media/' is",
        ] {
            #expect(text.contains(line + "\n"), "\(line)\n---\n\(text)")
        }
    }

    @Test("numbers read with thousands separators, counts with their noun")
    func wording() {
        #expect(1_204.grouped == "1,204")
        #expect(999.grouped == "999")
        #expect(1_000_000.grouped == "1,000,000")
        #expect(StarterConfig.count(1, "file") == "1 file")
        #expect(StarterConfig.count(3, "entry", plural: "entries") == "3 entries")
    }
}
