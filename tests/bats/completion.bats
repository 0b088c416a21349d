#!/usr/bin/env bats
# Bash completion (contrib/completion/husk.bash): the candidates bash gets
# for a command line, asked of the completion functions directly.

load helpers

setup() {
	setup_common
	mkdir -p "$TEST_TMP/bin"
	ln -s "$HUSK_BIN" "$TEST_TMP/bin/husk"
	ln -s "$HUSK_IMAGE_BIN" "$TEST_TMP/bin/husk-image"
	PATH=$TEST_TMP/bin:$PATH
	# shellcheck source=contrib/completion/husk.bash
	. "$BATS_TEST_DIRNAME/../../contrib/completion/husk.bash"
}

teardown() {
	teardown_common
}

# candidates LINE: what completing at the end of LINE offers, one a line,
# with bash's default word breaks (':' among them)
candidates() {
	local COMP_LINE=$1 COMP_POINT=${#1} COMP_WORDBREAKS=$' \t\n"\'><=;|&(:' COMPREPLY=()
	case $1 in
	husk-image*) _husk_image ;;
	*) _husk ;;
	esac
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

@test "completion: husk's verbs are the ones husk --help lists" {
	run candidates "husk "
	[ "$status" -eq 0 ]
	[ "$output" = "$(husk --help | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}' | sort)" ]
	[[ "$output" == *exec* ]]
	run candidates "husk --root /x ex"
	[ "$output" = exec ]
}

@test "completion: a verb's options, and the global ones before a verb" {
	run candidates "husk exec --pi"
	[ "$output" = --pid-file ]
	run candidates "husk delete --f"
	[ "$output" = --force ]
	run candidates "husk --log-f"
	[ "$output" = --log-format ]
	run candidates "husk --log-format "
	[ "$output" = $'json\ntext' ]
}

@test "completion: container ids come from the --root on the line, signals after the id" {
	require_root
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" sleep 100
	husk create -b "$BUNDLE" alpha-one
	husk create -b "$BUNDLE" alpha-two
	husk create -b "$BUNDLE" beta
	run candidates "husk --root $HUSK_ROOT kill alpha"
	[ "$output" = $'alpha-one\nalpha-two' ]
	run candidates "husk --root $HUSK_ROOT exec -t b"
	[ "$output" = beta ]
	run candidates "husk --root $HUSK_ROOT kill beta K"
	[ "$output" = KILL ]
	# a default root holds none of these
	run candidates "husk --root $TEST_TMP/empty delete alpha"
	[ -z "$output" ]
}

@test "completion: checkpoint and restore: their options and values, ids after the image path" {
	require_root
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" sleep 100
	husk create -b "$BUNDLE" gamma
	run candidates "husk checkpoint --leave"
	[ "$output" = --leave-running ]
	run candidates "husk restore --pid"
	[ "$output" = --pid-file ]
	run candidates "husk checkpoint --manage-cgroups-mode s"
	[ "$output" = $'soft\nstrict' ]
	run candidates "husk restore --empty-ns "
	[ "$output" = network ]
	run candidates "husk --root $HUSK_ROOT checkpoint --image-path $TEST_TMP g"
	[ "$output" = gamma ]
	# restore names a new container: no ids
	run candidates "husk --root $HUSK_ROOT restore g"
	[ -z "$output" ]
}

@test "completion: husk-image verbs, and image names from the --store on the line, colons and all" {
	local store=$TEST_TMP/store layout=$TEST_TMP/layout
	run candidates "husk-image "
	[ "$output" = "$("$HUSK_IMAGE_BIN" --help | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}' | sort)" ]
	mkdir -p "$TEST_TMP/fs/etc" && echo hi >"$TEST_TMP/fs/etc/hello"
	oci_init "$layout"
	img_begin
	img_layer_dir "$layout" "$TEST_TMP/fs" gzip
	img_commit "$layout" v1 '{"Cmd":["/bin/true"]}'
	"$HUSK_IMAGE_BIN" --store "$store" pull "oci:$layout:v1" >/dev/null
	local name
	name=$("$HUSK_IMAGE_BIN" --store "$store" list -q)
	[ -n "$name" ]
	run candidates "husk-image --store $store rm "
	[ "$output" = "$name" ]
	# bash inserts the part after the last ':' of the word being completed
	local typed=${name%%:*}:
	run candidates "husk-image --store $store unpack $typed"
	[ "$output" = "${name#"$typed"}" ]
}

@test "make install puts the completion where bash-completion looks for each command; make uninstall removes all it installed" {
	[ -f "$HUSK_BUILDDIR/Makefile" ] || skip "not run from a configured build tree"
	local dest=$TEST_TMP/dest
	run make -s -C "$HUSK_BUILDDIR" install DESTDIR="$dest"
	[ "$status" -eq 0 ]
	local dir
	dir=$(find "$dest" -type d -path '*/share/bash-completion/completions')
	[ -f "$dir/husk" ]
	[ -f "$dir/husk-image" ]
	# each file, loaded by itself, completes its command
	run bash -c ". '$dir/husk-image'; complete -p husk-image"
	[ "$output" = "complete -F _husk_image husk-image" ]
	[ -n "$(find "$dest" -name 'husk*.8')" ]
	run make -s -C "$HUSK_BUILDDIR" uninstall DESTDIR="$dest"
	[ "$status" -eq 0 ]
	run find "$dest" -type f
	[ -z "$output" ]
}
