# Option parsing for the recipes' run.sh, sourced after their defaults are declared:
#   --name value | --name=value   sets the shell variable `name` ("-" in names reads as "_");
#   --help                        lists the options with their current values.
# An option that names no declared variable is an error. Every run.sh sets `help_message`.
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      echo "${help_message:-}"
      echo "Options (current values):"
      for name in $(compgen -v); do
        case " ${options} " in *" ${name} "*) printf '  --%s %q\n' "${name//_/-}" "${!name}";; esac
      done
      exit 0;;
    --*=*) name="${1%%=*}"; value="${1#*=}"; shift;;
    --*)
      if [ $# -lt 2 ]; then echo "$0: option $1 needs a value" >&2; exit 1; fi
      name="$1"; value="$2"; shift 2;;
    *) echo "$0: unexpected argument '$1' (options look like --name value; see --help)" >&2; exit 1;;
  esac
  name="${name#--}"; name="${name//-/_}"
  case " ${options} " in
    *" ${name} "*) printf -v "${name}" '%s' "${value}";;
    *) echo "$0: unknown option --${name//_/-} (see --help)" >&2; exit 1;;
  esac
done
if declare -F use_python > /dev/null; then use_python; fi  # common_options.sh: the interpreter, now that --python is read
