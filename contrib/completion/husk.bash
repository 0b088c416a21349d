# bash completion for husk and husk-image.
# The verbs and options come from the binaries' own --help, so this file
# never lists a flag the build does not have; container ids come from
# `husk list -q` and image names from `husk-image list -q`, with the
# --root / --store given on the command line.

# _husk_verbs CMD: the verbs CMD --help lists ("  verb  summary" lines under
# "Commands:"); _husk_options CMD [VERB]: the options its --help lists.
_husk_verbs() {
	"$@" --help 2>/dev/null | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on && NF {print $1}'
}

_husk_options() {
	"$@" --help 2>/dev/null | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' | tr -d ' ,' | sort -u
}

# _husk_words: the words of the line up to the cursor, split at blanks only
# (bash also splits at ':', which image names are full of). Sets words,
# cword, cur and prev.
_husk_words() {
	local line=${COMP_LINE:0:COMP_POINT}
	read -ra words <<<"$line"
	[[ -z $line || $line == *[[:space:]] ]] && words+=("")
	cword=$((${#words[@]} - 1))
	cur=${words[cword]}
	prev=${words[cword - 1]:-}
}

# _husk_reply WORD...: COMPREPLY from the candidates matching $cur, cut the
# way bash will insert them when $cur holds a ':' that splits words.
_husk_reply() {
	mapfile -t COMPREPLY < <(compgen -W "$*" -- "$cur")
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		local prefix=${cur%"${cur##*:}"} i
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
		done
	fi
}

# _husk_verb_or_option: with no verb yet, the verbs or the global options;
# an option after the verb, that verb's options. False when neither applies.
_husk_verb_or_option() {
	if [ -z "$verb" ] && [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_husk_options "$bin")" -- "$cur")
	elif [ -z "$verb" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_husk_verbs "$bin")" -- "$cur")
	elif [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_husk_options "$bin" "$verb")" -- "$cur")
	else
		return 1
	fi
}

# _husk_split GLOBAL-OPTS-WITH-ARG: find the verb and the global options
# before it. Sets verb, verb_index and global (the global options as words).
_husk_split() {
	local with_arg=" $1 " i w
	verb= verb_index=0 global=()
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		--*=*) global+=("$w") ;;
		-*)
			global+=("$w")
			if [[ $with_arg == *" $w "* ]] && ((i + 1 < cword)); then
				global+=("${words[i + 1]}")
				((i++))
			fi
			;;
		*)
			verb=$w verb_index=$i
			return
			;;
		esac
	done
}

_husk() {
	local words cword cur prev verb verb_index global
	_husk_words
	local bin=${words[0]}
	_husk_split "--root --log --log-format --rootless --criu"
	COMPREPLY=()
	case $prev in
	--root | -b | --bundle | --image-path | --work-path | --parent-path)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	--log | --pid-file | -p | --process | --console-socket | -r | --resources | --criu)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--log-format)
		mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur")
		return
		;;
	--format | -f)
		mapfile -t COMPREPLY < <(compgen -W "table json" -- "$cur")
		return
		;;
	--rootless)
		mapfile -t COMPREPLY < <(compgen -W "true false auto" -- "$cur")
		return
		;;
	--manage-cgroups-mode)
		mapfile -t COMPREPLY < <(compgen -W "soft full strict ignore" -- "$cur")
		return
		;;
	--empty-ns)
		mapfile -t COMPREPLY < <(compgen -W "network" -- "$cur")
		return
		;;
	esac
	_husk_verb_or_option && return
	# the first word after the verb that is neither an option nor an
	# option's value names a container
	local i w seen=0
	for ((i = verb_index + 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		--image-path | --work-path | --parent-path | --manage-cgroups-mode | --empty-ns) ((i++)) ;;
		-*) ;;
		*) seen=1 ;;
		esac
	done
	case $verb in
	spec | features | list | help) return ;;
	create | run | restore) return ;; # a new id
	kill)
		if [ "$seen" = 1 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(compgen -A signal | sed -n 's/^SIG//p' |
				grep -v '[0-9+-]')" -- "${cur#SIG}")
			return
		fi
		;;
	esac
	[ "$seen" = 0 ] || return
	mapfile -t COMPREPLY < <(compgen -W "$("$bin" "${global[@]}" list -q 2>/dev/null)" -- "$cur")
}

_husk_image() {
	local words cword cur prev verb verb_index global
	_husk_words
	local bin=${words[0]}
	_husk_split "--store"
	COMPREPLY=()
	case $prev in
	--store)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	esac
	_husk_verb_or_option && return
	local i seen=0
	for ((i = verb_index + 1; i < cword; i++)); do
		[[ ${words[i]} == -* ]] || seen=$((seen + 1))
	done
	case $verb in
	unpack | inspect | copy)
		# the image first; a bundle or layout directory after it
		if [ "$seen" -ge 1 ]; then
			mapfile -t COMPREPLY < <(compgen -d -- "$cur")
			return
		fi
		;;
	rm) ;;
	mount | umount)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	*) return ;;
	esac
	_husk_reply "$("$bin" "${global[@]}" list -q 2>/dev/null)"
}

complete -F _husk husk
complete -F _husk_image husk-image
