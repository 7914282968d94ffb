# envsetup's archive unpacker. It runs on the target, as root, with POSIX sh and
# what every Debian and Ubuntu system has (coreutils, findutils, grep, sed, GNU tar).
#
#   sh -c "$(cat unpack.sh)" unpack ARCHIVE DEST SHA256 STAMP RECORD OWNED [REPLACE...]
#
# OWNED: the paths (relative to DEST, one per line) the archive may provide; every
# member must be one of them, under one, or a directory above one (empty: anything).
#
# A checksum proves where an archive came from, not that it is safe to unpack as
# root. So the archive is checked again against SHA256, listed, and refused if any
# member is anything but a regular file, a directory, a symbolic link or a hard link
# to another member, has a setuid or setgid bit, an absolute path or a '..'
# component, or lies under a symbolic link of the archive. Then it is unpacked
# into a fresh directory (mktemp -d, 0700) inside DEST, so the final moves are
# renames, with the owner and permission bits tar would otherwise restore ignored,
# and checked again as files: only files, directories and links, nothing setuid,
# every symbolic link relative and resolving inside DEST, every hard link within
# the archive. Only then does anything move into DEST: the REPLACE paths (relative
# to DEST) are removed, each top-level entry is renamed into DEST, and a directory
# that DEST already has is merged into, entry by entry. A symbolic link that DEST
# already has is never followed: where the archive needs it to be a directory, the
# archive is refused. A refused archive leaves DEST as it was; the archive itself
# is deleted either way. RECORD is written to STAMP once everything is in place.
#
# Exit status: 0 unpacked; 3 refused (one line on stderr says why); other: failed.
set -eu
umask 022
export LC_ALL=C

archive=$1 dest=${2%/} sha256=$3 stamp=$4 record=$5 owned=$6
shift 6
name=${archive##*/}
work=
created=

cleanup() {
    if [ -n "$work" ]; then rm -rf -- "$work"; fi
    if [ -n "$created" ]; then rm -rf -- "$created"; fi
    rm -f -- "$archive"
}
trap cleanup EXIT
trap 'exit 130' HUP INT TERM

refuse() {
    printf 'refused %s: %s; nothing in %s was changed\n' "$name" "$1" "${dest:-/}" >&2
    exit 3
}

untar() {
    case $archive in
        *.tgz | *.tar.gz) tar -z "$@" ;;
        *.tar.zst) tar -I zstd "$@" ;;
        *.tar.xz) tar -J "$@" ;;
        *) tar "$@" ;;
    esac
}

# The number of components in a relative path (its depth below DEST).
depth() {
    count=0
    old_ifs=$IFS
    IFS=/
    set -f
    for part in $1; do
        case $part in '' | .) ;; *) count=$((count + 1)) ;; esac
    done
    set +f
    IFS=$old_ifs
    echo "$count"
}

# Whether target $2, of a symbolic link in a directory $1 levels below DEST, climbs out.
climbs_out() {
    level=$1
    old_ifs=$IFS
    IFS=/
    set -f
    for part in $2; do
        case $part in
            '' | .) ;;
            ..) level=$((level - 1)) ;;
            *) level=$((level + 1)) ;;
        esac
        if [ "$level" -lt 0 ]; then break; fi
    done
    set +f
    IFS=$old_ifs
    [ "$level" -lt 0 ]
}

# Member names as the archive stores them, normalized: no leading ./, no doubled
# or trailing slashes, no /./ inside.
normalize() {
    sed -e 's|//*|/|g' -e ':a' -e 's|/\./|/|' -e 'ta' -e 's|^\(\./\)*||' -e 's|/\.$||' -e 's|/$||'
}

case $dest in /?*) ;; *) refuse "the destination must be an absolute path below /, not '$2'" ;; esac

# Whether normalized member $1, of type $2, is one of the OWNED paths, under one,
# or a directory above one.
is_owned() {
    if [ -z "$owned" ] || [ -z "$1" ]; then return 0; fi
    found=1
    old_ifs=$IFS
    IFS='
'
    set -f
    for path in $owned; do
        case $1 in "$path" | "$path"/*) found=0 ;; esac
        if [ "$2" = d ]; then
            case $path in "$1"/*) found=0 ;; esac
        fi
    done
    set +f
    IFS=$old_ifs
    return "$found"
}

# 1. The checksum, once more, right before use.
if ! printf '%s  %s\n' "$sha256" "$archive" | sha256sum -c --status - 2>/dev/null; then
    refuse "its SHA-256 is not $sha256 (the copy on the target changed or is incomplete)"
fi

# A private directory inside DEST (created, and removed on refusal, when DEST is new).
if [ -L "$dest" ] && [ ! -d "$dest" ]; then refuse "$dest is a symbolic link to no directory"; fi
if [ ! -e "$dest" ] && [ ! -L "$dest" ]; then
    created=$dest
    while [ -n "${created%/*}" ] && [ ! -e "${created%/*}" ] && [ ! -L "${created%/*}" ]; do
        created=${created%/*}
    done
    mkdir -p -- "$dest"
fi
if [ ! -d "$dest" ]; then refuse "$dest is not a directory"; fi
work=$(mktemp -d "$dest/.envsetup-unpack.XXXXXXXXXX")
new=$work/new
mkdir -m 0700 "$new"

# 2. The listing, before anything is unpacked. tar escapes control characters and
# bytes that are not UTF-8 (one line per member; C.UTF-8 keeps UTF-8 names as they
# are); -P keeps names as stored, so an absolute or '..' path is seen as such.
listing() {
    (
        LC_ALL=C.UTF-8
        export LC_ALL
        untar -t -P --quoting-style=escape "$@" -f "$archive"
    )
}
if ! listing -v >"$work/long" 2>"$work/err" || ! listing >"$work/names" 2>>"$work/err"; then
    refuse "tar cannot read it: $(grep -m 1 . "$work/err")"
fi
if [ "$(wc -l <"$work/long")" != "$(wc -l <"$work/names")" ]; then
    refuse "tar lists it in two different ways"
fi
normalize <"$work/names" >"$work/norm"
: >"$work/links"
line=0
while IFS= read -r long <&3 && IFS= read -r member <&4 && IFS= read -r plain <&5; do
    line=$((line + 1))
    case $member in
        /*) refuse "$member has an absolute path" ;;
        .. | ../* | */.. | */../*) refuse "$member has a '..' in its path" ;;
        *\\*) refuse "$member has a backslash or a control character in its name" ;;
    esac
    mode=${long%% *}
    case $mode in
        ???[sS]*) refuse "$member is setuid ($mode)" ;;
        ??????[sS]*) refuse "$member is setgid ($mode)" ;;
    esac
    case $mode in
        -* | d*) ;;
        l*)
            target=${long#*" $member -> "}
            case $target in
                /*) refuse "$member is a symbolic link to an absolute path ($target)" ;;
                *\\*) refuse "$member is a symbolic link with a backslash or control character" ;;
            esac
            if climbs_out "$(($(depth "$plain") - 1))" "$target"; then
                refuse "$member is a symbolic link out of $dest ($target)"
            fi
            printf '%s\n' "$plain" >>"$work/links"
            ;;
        h*)
            target=${long#*" $member link to "}
            case $target in
                /* | .. | ../* | */.. | */../* | *\\*)
                    refuse "$member is a hard link out of the archive ($target)"
                    ;;
            esac
            wanted=$(printf '%s\n' "$target" | normalize)
            if ! head -n "$line" "$work/norm" | grep -qxF -- "$wanted"; then
                refuse "$member is a hard link to $target, which the archive does not have before it"
            fi
            ;;
        c*) refuse "$member is a character device" ;;
        b*) refuse "$member is a block device" ;;
        p*) refuse "$member is a FIFO" ;;
        s*) refuse "$member is a socket" ;;
        *) refuse "$member is not a regular file, directory or link (type ${mode%"${mode#?}"})" ;;
    esac
    if ! is_owned "$plain" "${mode%"${mode#?}"}"; then
        declared=$(printf '%s\n' "$owned" | paste -sd , | sed 's/,/, /g')
        refuse "$member is outside the paths the step declares ($declared)"
    fi
done 3<"$work/long" 4<"$work/names" 5<"$work/norm"
# Nothing may be unpacked through a symbolic link of the archive itself.
while IFS= read -r link; do
    length=$((${#link} + 1))
    if cut -c "1-$length" "$work/norm" | grep -qxF -- "$link/"; then
        refuse "$link is a symbolic link, and the archive has members under it"
    fi
done <"$work/links"

# 3. Unpack into the private directory, owners and mode bits beyond the umask ignored.
if ! untar -x --no-same-owner --no-same-permissions -f "$archive" -C "$new" 2>"$work/err"; then
    refuse "tar could not unpack it: $(grep -m 1 . "$work/err")"
fi

# 4. What was unpacked, checked as files.
odd=$(find "$new" ! -type f ! -type d ! -type l -print | head -n 1)
if [ -n "$odd" ]; then refuse "${odd#"$new"/} is not a regular file, directory or link"; fi
odd=$(find "$new" -type f -perm /6000 -print | head -n 1) # a directory may inherit setgid from dest
if [ -n "$odd" ]; then refuse "${odd#"$new"/} is setuid or setgid"; fi
odd=$(find "$new" -name '*
*' -print | head -n 1)
if [ -n "$odd" ]; then refuse "a name has a line break in it"; fi
top=$(realpath -- "$new")
find "$new" -type l -print >"$work/symlinks"
while IFS= read -r link; do
    target=$(readlink -- "$link")
    case $target in /*) refuse "${link#"$new"/} is a symbolic link to $target" ;; esac
    resolved=$(realpath -m -- "$link" 2>/dev/null) || refuse "${link#"$new"/} is a link loop"
    case $resolved in
        "$top" | "$top"/*) ;;
        *) refuse "${link#"$new"/} is a symbolic link out of $dest ($target)" ;;
    esac
done <"$work/symlinks"
find "$new" -type f -links +1 -printf '%i %n\n' | sort | uniq -c >"$work/inodes"
while read -r count inode links; do
    if [ "$count" != "$links" ]; then
        refuse "a file has hard links outside the archive (inode $inode)"
    fi
done <"$work/inodes"

# 5. What moves where: check everything before anything changes.
for path in "$@"; do
    case $path in */*) ;; *) continue ;; esac
    above=$dest
    old_ifs=$IFS
    IFS=/
    set -f
    for part in ${path%/*}; do
        if [ -n "$part" ]; then
            above=$above/$part
            if [ -L "$above" ]; then
                refuse "$above is a symbolic link; envsetup removes nothing through it"
            fi
        fi
    done
    set +f
    IFS=$old_ifs
done
replaced() {
    for path in "$@"; do
        case $current in "${path%/}" | "${path%/}"/*) return 0 ;; esac
    done
    return 1
}
find "$new" -mindepth 1 -printf '%y %P\n' >"$work/tree"
: >"$work/moves"
whole=
while IFS= read -r entry; do
    kind=${entry%% *} current=${entry#* }
    if [ -n "$whole" ]; then
        case $current in "$whole"/*) continue ;; esac
    fi
    there=$dest/$current
    if replaced "$@" || { [ ! -e "$there" ] && [ ! -L "$there" ]; }; then
        printf '%s\n' "$current" >>"$work/moves"
        if [ "$kind" = d ]; then whole=$current; fi
    elif [ -L "$there" ]; then
        if [ "$kind" = d ]; then
            refuse "$there is a symbolic link where the archive has a directory; envsetup does not write through it"
        fi
        printf '%s\n' "$current" >>"$work/moves"
    elif [ -d "$there" ]; then
        if [ "$kind" != d ]; then refuse "$there is a directory where the archive has a file"; fi
    elif [ "$kind" = d ]; then
        refuse "$there is a file where the archive has a directory"
    else
        printf '%s\n' "$current" >>"$work/moves"
    fi
done <"$work/tree"

# 6. Into place: the replaced paths go, then each entry is renamed (mv -T never
# moves into a directory that a link points at; a link in the way is replaced).
created=
for path in "$@"; do
    rm -rf -- "$dest/${path%/}"
done
while IFS= read -r current; do
    mv -T -- "$new/$current" "$dest/$current"
done <"$work/moves"
mkdir -p -- "${stamp%/*}"
printf '%s\n' "$record" >"$stamp.part"
mv -fT -- "$stamp.part" "$stamp"
