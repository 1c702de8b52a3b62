#!/usr/bin/env bash
# Builds the media-janitor demo app: a Django-like SQLite database, a media tree of a few
# thousand files, and the list of cases planted in it. Deterministic: two runs give the
# same database rows, the same files and sizes, and the same planted.txt (only the mtime
# of the one `too_young` file differs, by design).
#
#   samples/make-sample.sh [OUT]      # OUT defaults to samples/out (next to this script)
#
# Depends on bash, coreutils, find and the sqlite3 command-line tool.
#
# It writes:
#   OUT/app.sqlite3          the app's database
#   OUT/app-rows.sql         its rows as INSERT statements (samples/load-postgres.sh loads
#                            them into a PostgreSQL database)
#   OUT/media/               the media root (samples/janitor.yml points at both)
#   OUT/secret.txt           a file OUTSIDE the media root, the target of a planted symlink
#   OUT/planted.txt          KIND<TAB>PATH-or-VALUE, sorted (LC_ALL=C), kinds:
#       orphan        a file in a class that no reference column holds (past grace)
#       missing       a path a row references that is not on disk
#       unclassified  an entry under media/ that no class claims (includes symlinks)
#       invalid       a raw reference value that cannot be a media path
#       too_young     an unreferenced file whose mtime is "now" (inside the 15m grace)
#       shared        a file referenced by two rows or two columns: NOT an orphan
#       cross_class   a file of one class referenced only by another class's column: NOT an orphan
#       normalised    a raw reference value that names an existing file once normalised: NOT missing
#       derivative    a derivative of a referenced file: NOT an orphan
#       excluded      a file a class excludes: neither orphan nor unclassified
#   OUT/expected-bytes.txt   total lstat size of every regular file and symlink under media/
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/out"}
marker=.media-janitor-sample

# This script removes OUT; refuse to remove anything it did not create.
if [[ -e $out ]]; then
    if [[ ! -d $out ]]; then
        echo "make-sample.sh: '$out' exists and is not a directory" >&2
        exit 2
    fi
    if [[ -n $(ls -A "$out") && ! -e $out/$marker ]]; then
        echo "make-sample.sh: '$out' is not empty and was not made by this script; refusing to remove it" >&2
        exit 2
    fi
    rm -rf -- "$out"
fi
mkdir -p -- "$out"
out=$(cd "$out" && pwd)
: > "$out/$marker"
media=$out/media

# --- sizes -----------------------------------------------------------------------------
nusers=650 nposts=1200 nreceipts=350 nqr=260 nmsgs=1000 nsrc=1500

# A deterministic pseudo-random number in [lo, hi) from a seed, in R (no subshell).
rnd() { R=$(( $2 + ((($1 * 1103515245 + 12345) >> 8) & 0x7fffffff) % ($3 - $2) )); }
# Four hex digits from a seed, in H: the random-looking suffix upload handlers add.
hex() { printf -v H '%04x' $(( ($1 * 40503 + 12345) & 0xffff )); }

# --- collected output ------------------------------------------------------------------
files=() sizes=()       # media files to write, and their sizes
declare -A dirs=()      # directories to create
planted=()              # lines of planted.txt
sql=()                  # INSERT statements

add_file() {            # add_file PATH SIZE
    files+=("$1")
    sizes+=("$2")
    [[ $1 == */* ]] && dirs[${1%/*}]=1
    return 0
}
plant() { planted+=("$1"$'\t'"$2"); }
q() { if [[ -z ${1+x} || $1 == NULL ]]; then Q=NULL; else Q="'${1//\'/\'\'}'"; fi; }

# --- accounts_user, accounts_userprofile, profile_pics/, signatures/ -------------------
add_file profile_pics/default.png 1337
plant excluded profile_pics/default.png

pic_of=()               # user id -> profile_pic path (for the shared cases)
old_pic_users=(7 44 88 123 176 230 289 333 401 512)
old_sig_users=(3 99 210 600)
hours=(0 6 12 48 168)   # by id % 5; id % 10 == 0 has NULL, odd ids have no profile row
for ((i = 1; i <= nusers; i++)); do
    printf -v id '%04d' "$i"
    hex "$i"
    ext=jpg; ((i % 7 == 0)) && ext=png
    stem=u$id-$H
    pic=profile_pics/$stem.$ext
    pic_of[i]=$pic
    if ((i % 25 == 0)); then
        pic=NULL
    elif ((i % 25 == 1)); then
        pic=''
    elif ((i == 11)); then
        pic=${pic_of[10]}                       # the same picture as user 10
        plant shared "$pic"
    elif ((i == 302)); then
        plant missing "$pic"                    # row says so, disk does not have it
    elif ((i == 452)); then
        pic=/etc/passwd
        plant invalid "$pic"
    else
        rnd "$i" 500 4000; add_file "$pic" "$R"
        if ((i % 5 == 0)); then
            for wh in 64x64 256x256; do
                rnd "$((i * 3 + ${#wh}))" 150 1200
                add_file "profile_pics/thumbs/${stem}_$wh.$ext" "$R"
                plant derivative "profile_pics/thumbs/${stem}_$wh.$ext"
            done
        fi
        if ((i % 10 == 3)); then
            rnd "$((i * 5))" 300 2000; add_file "profile_pics/$stem.webp" "$R"
            plant derivative "profile_pics/$stem.webp"
        fi
    fi

    sig=NULL
    if ((i % 3 == 0)); then
        sig=signatures/sig-$id-$H.png
        if ((i == 363)); then
            plant missing "$sig"
        else
            rnd "$((i + 7))" 100 1500; add_file "$sig" "$R"
        fi
    elif ((i % 3 == 1 && i % 2 == 0)); then
        sig=''
    fi
    if ((i == 20)); then
        sig=$pic                                # profile_pic and signature hold the same file
        plant shared "$pic"
    elif ((i == 31)); then
        sig=profile_pics/sig-u$id.png           # a profile_pics/ file held only by `signature`
        add_file "$sig" 777
        plant cross_class "$sig"
    fi

    q "$pic"; qpic=$Q; q "$sig"; qsig=$Q
    sql+=("INSERT INTO accounts_user VALUES ($i, 'user$id', $qpic, $qsig);")
    if ((i % 2 == 0)); then
        h=${hours[i % 5]}; ((i % 10 == 0)) && h=NULL
        sql+=("INSERT INTO accounts_userprofile VALUES ($i, $i, $h);")
    fi
done

# Pictures users replaced: the old file stays behind.
for u in "${old_pic_users[@]}"; do
    printf -v id '%04d' "$u"; hex "$((u + 100000))"
    stem=u$id-$H
    rnd "$((u + 11))" 500 4000; add_file "profile_pics/$stem.jpg" "$R"
    plant orphan "profile_pics/$stem.jpg"
    if ((u == 44)); then                        # an orphan whose derivatives exist too
        for d in "thumbs/${stem}_64x64.jpg" "thumbs/${stem}_256x256.jpg" "$stem.webp"; do
            add_file "profile_pics/$d" 321
            plant orphan "profile_pics/$d"
        done
    fi
done
add_file profile_pics/thumbs/u0555-0bad_64x64.jpg 256   # a thumbnail whose parent is long gone
plant orphan profile_pics/thumbs/u0555-0bad_64x64.jpg
for u in "${old_sig_users[@]}"; do
    printf -v id '%04d' "$u"; hex "$((u + 100000))"
    add_file "signatures/sig-$id-$H.png" 0              # includes empty files
    ((u % 2 == 0)) && { rnd "$u" 100 1500; sizes[-1]=$R; }
    plant orphan "signatures/sig-$id-$H.png"
done

# --- forum_post, forum_images/<yyyy>/<mm>/ ---------------------------------------------
# Post ids i % 100 == 51 were deleted (no row); their images stay behind.
for ((i = 1; i <= nposts; i++)); do
    m=$(( (i - 1) * 24 / nposts ))
    printf -v yyyy '%04d' $((2024 + m / 12))
    printf -v mm '%02d' $((m % 12 + 1))
    printf -v created '%s-%s-%02d %02d:%02d:%02d' "$yyyy" "$mm" $((1 + i * 7 % 28)) $((i % 24)) $((i * 13 % 60)) $((i * 29 % 60))
    printf -v pid '%05d' "$i"
    hex "$((i + 200000))"
    ext=jpg; ((i % 11 == 0)) && ext=png; ((i % 13 == 0)) && ext=gif
    img=forum_images/$yyyy/$mm/p$pid-$H.$ext
    size=0; ((i % 97 != 0)) && { rnd "$((i + 3))" 100 6000; size=$R; }
    if ((i % 100 == 51)); then
        add_file "$img" "$size"
        plant orphan "$img"
        continue
    fi
    if ((i % 8 == 0)); then
        img=NULL
    elif ((i % 8 == 4)); then
        img=''
    elif ((i == 77)); then
        plant missing "$img"
    elif ((i == 99)); then
        img=../../etc/passwd
        plant invalid "$img"
    elif ((i == 123)); then
        add_file "$img" "$size"
        img=./forum_images//$yyyy/$mm/p$pid-$H.$ext      # stored un-normalised by some old code
        plant normalised "$img"
    else
        add_file "$img" "$size"
    fi
    q "$img"
    sql+=("INSERT INTO forum_post VALUES ($i, $((1 + i * 37 % nusers)), 'Post $i', $Q, '$created');")
done

# --- billing_receipt, receipts/ --------------------------------------------------------
# Ids past nreceipts are uploads whose transaction rolled back: file written, no row.
for ((i = 1; i <= nreceipts + 6; i++)); do
    printf -v rid '%06d' "$i"
    hex "$((i + 300000))"
    f=receipts/r$rid-$H.pdf
    printf -v at '2025-%02d-%02d %02d:%02d:%02d' $((1 + (i - 1) * 12 / nreceipts % 12)) $((1 + i % 28)) $((i * 5 % 24)) $((i * 7 % 60)) $((i * 11 % 60))
    rnd "$((i + 5))" 1000 9000
    if ((i > nreceipts)); then
        add_file "$f" "$R"
        plant orphan "$f"
        continue
    fi
    if ((i % 50 == 0)); then
        f=NULL
    elif ((i == 201)); then
        plant missing "$f"
    else
        add_file "$f" "$R"
    fi
    q "$f"
    sql+=("INSERT INTO billing_receipt VALUES ($i, $((1 + i * 13 % nusers)), $Q, '$at');")
done

# --- core_attendanceqr, qr_codes/ ------------------------------------------------------
for ((i = 1; i <= nqr + 4; i++)); do
    printf -v qid '%05d' "$i"
    hex "$((i + 400000))"
    f=qr_codes/qr-$qid-$H.png
    printf -v at '2025-12-%02d %02d:%02d:%02d' $((1 + (i - 1) * 31 / (nqr + 4))) $((i % 24)) $((i * 7 % 60)) $((i * 3 % 60))
    rnd "$((i + 9))" 200 900
    if ((i > nqr)); then                        # rows deleted, files left
        add_file "$f" "$R"
        plant orphan "$f"
        continue
    fi
    if ((i == 100)); then
        plant missing "$f"
    else
        add_file "$f" "$R"
    fi
    sql+=("INSERT INTO core_attendanceqr VALUES ($i, $((1 + i % 60)), '$f', '$at');")
done

# --- chat_message, chat_media/images/, chat_media/videos/ ------------------------------
for ((i = 1; i <= nmsgs; i++)); do
    printf -v cid '%06d' "$i"
    hex "$((i + 500000))"
    printf -v ts '2025-12-%02d %02d:%02d:%02d' $((1 + (i - 1) * 31 / nmsgs)) $((i * 7 % 24)) $((i * 11 % 60)) $((i * 13 % 60))
    img=NULL vid=NULL
    if ((i % 3 == 0)); then
        img=chat_media/images/c$cid-$H.jpg
        rnd "$((i + 1))" 500 5000; add_file "$img" "$R"
    elif ((i % 3 == 2)); then
        img=''
    fi
    if ((i == 601)); then
        img=http://cdn.example.com/a.jpg
        plant invalid "$img"
    fi
    if ((i % 10 == 5)); then
        vid=chat_media/videos/c$cid-$H.mp4
        if ((i == 555)); then
            plant missing "$vid"
        else
            rnd "$((i + 2))" 8000 32000; add_file "$vid" "$R"
        fi
    fi
    q "$img"; qimg=$Q; q "$vid"; qvid=$Q
    sql+=("INSERT INTO chat_message VALUES ($i, $((1 + i * 17 % nusers)), $qimg, $qvid, '$ts');")
done
for k in 1 2 3 4 5 6 7; do                      # files of messages that were deleted
    i=$((nmsgs + k)); printf -v cid '%06d' "$i"; hex "$((i + 500000))"
    case $k in
        1|2|3) f=chat_media/images/c$cid-$H.jpg; plant orphan "$f" ;;
        4|5)   f=chat_media/videos/c$cid-$H.mp4; plant orphan "$f" ;;
        6)     f=chat_media/images/c$cid-$H.jpg; plant too_young "$f"; young=$f; continue ;;
        7)     f=chat_media/audio/c$cid-$H.ogg; plant unclassified "$f" ;;
    esac
    rnd "$i" 500 9000; add_file "$f" "$R"
done

# --- src_chatmessage (rows only) -------------------------------------------------------
words=(agenda minutes budget vote motion quorum report draft event venue sponsor deadline)
for ((i = 1; i <= nsrc; i++)); do
    rnd "$i" 1 40
    msg="Message $i:"
    for ((w = 0; w < R; w++)); do msg+=" ${words[(i + w * 5) % ${#words[@]}]}"; done
    m=$(( (i - 1) * 7 / nsrc ))
    printf -v at '2025-%02d-%02d %02d:%02d:%02d' $((6 + m)) $((1 + i % 28)) $((i % 24)) $((i * 17 % 60)) $((i * 19 % 60))
    sql+=("INSERT INTO src_chatmessage VALUES ($i, $((1 + i % 5)), '$msg', '$at');")
done

# --- files nothing claims --------------------------------------------------------------
add_file README.txt 120;              plant unclassified README.txt
add_file tmp/upload_123.part 2048;    plant unclassified tmp/upload_123.part
plant unclassified profile_pics/avatar-link.jpg          # symlink to ../../secret.txt
plant unclassified forum_images/2025/06/broken-link.jpg  # dangling symlink

# --- write the media tree --------------------------------------------------------------
blob='media-janitor sample file; the quick brown fox jumps over the lazy dog 0123456789.'$'\n'
while ((${#blob} < 40000)); do blob+=$blob; done

mkdir -p -- "$media"
( cd "$media" && mkdir -p -- "${!dirs[@]}" )
for ((n = 0; n < ${#files[@]}; n++)); do
    f=${files[n]} s=${sizes[n]}
    if ((s <= ${#f} + 1)); then
        printf '%s' "${f:0:s}" > "$media/$f"
    else
        printf '%s\n%s' "$f" "${blob:0:s - ${#f} - 1}" > "$media/$f"
    fi
done
printf 'top secret: must never be removed or counted by the janitor\n' > "$out/secret.txt"
ln -s ../../secret.txt "$media/profile_pics/avatar-link.jpg"
ln -s p99999-gone.jpg "$media/forum_images/2025/06/broken-link.jpg"

# Everything is old enough to be past any grace, except one file written afterwards.
find "$media" "$out/secret.txt" -exec touch -h -d '2026-01-01 00:00:00Z' {} +
printf '%s\n%s' "$young" "${blob:0:1000}" > "$media/$young"

# --- the database ----------------------------------------------------------------------
{
    cat <<'SQL'
PRAGMA journal_mode = DELETE;
BEGIN;
CREATE TABLE "accounts_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "username" varchar(150) NOT NULL UNIQUE, "profile_pic" varchar(100) NULL, "signature" varchar(100) NULL);
CREATE TABLE "accounts_userprofile" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL UNIQUE REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED, "message_deletion_hours" integer unsigned NULL CHECK ("message_deletion_hours" >= 0));
CREATE TABLE "forum_post" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "author_id" integer NOT NULL REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED, "title" varchar(200) NOT NULL, "image" varchar(100) NULL, "created_at" datetime NOT NULL);
CREATE INDEX "forum_post_author_id_idx" ON "forum_post" ("author_id");
CREATE TABLE "billing_receipt" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED, "file" varchar(100) NULL, "uploaded_at" datetime NOT NULL);
CREATE INDEX "billing_receipt_user_id_idx" ON "billing_receipt" ("user_id");
CREATE TABLE "core_attendanceqr" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED, "image" varchar(100) NULL, "created_at" datetime NOT NULL);
CREATE INDEX "core_attendanceqr_user_id_idx" ON "core_attendanceqr" ("user_id");
CREATE TABLE "chat_message" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "sender_id" integer NOT NULL REFERENCES "accounts_user" ("id") DEFERRABLE INITIALLY DEFERRED, "image" varchar(100) NULL, "video" varchar(100) NULL, "timestamp" datetime NOT NULL);
CREATE INDEX "chat_message_sender_id_idx" ON "chat_message" ("sender_id");
CREATE TABLE "src_chatmessage" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "committee_id" integer NOT NULL, "message" text NOT NULL, "created_at" datetime NOT NULL);
CREATE INDEX "src_chatmessage_committee_id_idx" ON "src_chatmessage" ("committee_id");
SQL
    printf '%s\n' "${sql[@]}"
    echo 'COMMIT;'
} | sqlite3 -bail "$out/app.sqlite3" > /dev/null
printf '%s\n' "${sql[@]}" > "$out/app-rows.sql"

# --- planted.txt, expected-bytes.txt, summary ------------------------------------------
printf '%s\n' "${planted[@]}" | sort > "$out/planted.txt"

total=0 entries=0
while read -r s; do
    total=$((total + s)); entries=$((entries + 1))
done < <(find "$media" \( -type f -o -type l \) -printf '%s\n')
echo "$total" > "$out/expected-bytes.txt"

declare -A count=()
while IFS=$'\t' read -r kind _; do
    count[$kind]=$((${count[$kind]:-0} + 1))
done < "$out/planted.txt"
summary=""
for kind in orphan missing unclassified invalid too_young shared cross_class normalised derivative excluded; do
    summary+=" $kind=${count[$kind]:-0}"
done
echo "sample in $out: $entries entries, $total bytes under media/, ${#sql[@]} rows;$summary"
