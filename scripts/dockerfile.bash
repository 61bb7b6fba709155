# Reads Dockerfiles/topcoins.Dockerfile for the checks that replay it without a Docker engine
# (scripts/check-docker-context, scripts/check-image-rootfs), so that they follow the file instead
# of a copy of it that could drift. Sourced from the repository root, not run.
# Only the forms that Dockerfile uses are understood; the callers stop on anything else, so a new
# kind of instruction is noticed rather than skipped.

# dockerfile_stage FILE first|last: the instructions of the first or the last stage, one a line
# ("COPY Sources ./Sources"), the FROM line included, comments dropped, continuations joined.
dockerfile_stage() {
  awk -v want="$2" '
    /^[[:space:]]*#/ { next }
    { line = line $0 }
    /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, " ", line); next }
    line ~ /^[[:space:]]*$/ { line = ""; next }
    {
      sub(/^[[:space:]]+/, "", line)
      if (toupper(line) ~ /^FROM[[:space:]]/) stage++
      text[stage] = text[stage] line "\n"
      line = ""
    }
    END { printf "%s", want == "first" ? text[1] : text[stage] }
  ' "$1"
}

# dockerignored PATH: whether .dockerignore leaves PATH, or a folder above it, out of the build
# context. Each pattern is matched as a bash glob against each leading part of PATH, which is what
# docker does for plain patterns; "!" exceptions are refused rather than half understood.
dockerignored() {
  [ -f .dockerignore ] || return 1
  local pattern prefix part parts
  while read -r pattern; do
    [[ -z $pattern || $pattern == \#* ]] && continue
    [[ $pattern == \!* ]] && { echo ".dockerignore: '!' patterns are not understood here" >&2; exit 1; }
    pattern=${pattern#/}
    pattern=${pattern%/}
    prefix=""
    IFS=/ read -ra parts <<<"$1"
    for part in "${parts[@]}"; do
      prefix=${prefix:+$prefix/}$part
      # shellcheck disable=SC2053 # the pattern is a glob on purpose
      [[ $prefix == $pattern ]] && return 0
    done
  done <.dockerignore
  return 1
}

# dockerfile_copy ROOT WORKDIR ARGS...: does what `COPY ARGS...` does in a stage whose file system
# is the folder ROOT and whose working directory is WORKDIR. Sources come from the build context
# (this repository), which must hold them and not .dockerignore them; with --from=STAGE they come
# from the folder named by copy_from[STAGE] (an associative array the caller declares).
dockerfile_copy() {
  local root=$1 workdir=$2 from="" source dest
  shift 2
  while [[ $1 == --* ]]; do
    case $1 in
      --from=*) from=${1#--from=} ;;
      *) echo "COPY $1: flag not understood here" >&2; exit 1 ;;
    esac
    shift
  done
  dest=${!#}
  [[ $dest == /* ]] || dest="$workdir/$dest"
  for source in "${@:1:$#-1}"; do
    if [ -n "$from" ]; then
      source="${copy_from[$from]:?COPY --from=$from: no folder for that stage}/$source"
    else
      source=${source#./}
      source=${source%/}
      [ -e "$source" ] || { echo "COPY $source: not in the build context" >&2; exit 1; }
      ! dockerignored "$source" || { echo "COPY $source: excluded by .dockerignore" >&2; exit 1; }
    fi
    # COPY keeps a file's mode (the entrypoint must stay executable) and copies a folder's contents.
    if [ -d "$source" ]; then
      mkdir -p "$root$dest"
      cp -R --preserve=mode,timestamps "$source/." "$root$dest/"
    elif [[ $dest == */ ]]; then
      mkdir -p "$root$dest"
      cp --preserve=mode,timestamps "$source" "$root$dest"
    else
      mkdir -p "$(dirname "$root$dest")"
      cp --preserve=mode,timestamps "$source" "$root$dest"
    fi
  done
}
