# Sourced by the stand-ins' entrypoints: file_env VAR [DEFAULT] sets VAR from VAR or from
# the file VAR_FILE names (not both), else DEFAULT, as the official images' entrypoints do.
file_env() {
    eval "value=\${$1:-} file=\${$1_FILE:-}"
    if [ -n "$value" ] && [ -n "$file" ]; then
        echo "error: both $1 and $1_FILE are set (but are exclusive)" >&2
        exit 1
    fi
    if [ -n "$file" ]; then
        value=$(cat "$file")
    fi
    export "$1=${value:-${2:-}}"
    unset "$1_FILE"
}
