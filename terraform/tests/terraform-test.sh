#!/usr/bin/env bash
# Terraform's own checks of the modules, run by `mvn -B verify` (terraform module): fmt, validate,
# `terraform test` (mock AWS provider: plan and apply of the deployment matrix and the guards),
# and shellcheck on the user data rendered for each role. Needs the terraform binary and the AWS
# provider (a filesystem mirror: FLOE_TF_PLUGIN_DIR, or found under / as the parent of a
# registry.terraform.io directory); without them it prints one line saying so and exits 0.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

skip() {
  echo "TERRAFORM TESTS SKIPPED: $* (terraform validate/test did not run)"
  exit 0
}

command -v terraform >/dev/null || skip "no terraform binary on PATH"
plugins=${FLOE_TF_PLUGIN_DIR:-}
if [[ -z "$plugins" ]]; then
  mirror=$(find / -maxdepth 4 -type d -name registry.terraform.io -path '*registry.terraform.io' 2>/dev/null | head -1 || true)
  [[ -z "$mirror" ]] || plugins=$(dirname "$mirror")
fi
[[ -n "$plugins" && -d "$plugins/registry.terraform.io/hashicorp/aws" ]] ||
  skip "no AWS provider mirror (set FLOE_TF_PLUGIN_DIR to the directory holding registry.terraform.io/)"
command -v shellcheck >/dev/null || { echo "terraform-test: shellcheck is not installed (scripts/test installs it)" >&2; exit 1; }

export TF_CLI_CONFIG_FILE=/dev/null TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
echo "terraform-test: $(terraform version | head -1), provider mirror $plugins"

echo "terraform-test: fmt"
terraform -chdir="$here" fmt -check -recursive -diff

# terraform test destroys what each test file applied; terraform 1.11 cannot override
# prevent_destroy for that, so the tests run on a copy where the data volumes' guard is off.
# tests/terraform.test.mjs checks that the real module keeps it on.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$here" --exclude=./tests/node_modules --exclude=.terraform --exclude='*.tfstate*' -cf - . | tar -C "$work" -xf -
mapfile -t guards < <(grep -rl 'prevent_destroy = true' "$work/modules" || true)
[[ ${#guards[@]} -gt 0 ]] || { echo "terraform-test: no prevent_destroy guard found in the modules" >&2; exit 1; }
sed -i 's/prevent_destroy = true/prevent_destroy = false/' "${guards[@]}"

echo "terraform-test: init and validate"
terraform -chdir="$work" init -backend=false -input=false -no-color -plugin-dir="$plugins" >/dev/null
terraform -chdir="$work" validate -no-color

echo "terraform-test: test (mock provider)"
terraform -chdir="$work" test -no-color

echo "terraform-test: shellcheck of the user data of each role"
render="$work/tests/render"
terraform -chdir="$render" init -backend=false -input=false -no-color >/dev/null
terraform -chdir="$render" apply -auto-approve -input=false -no-color >/dev/null
for role in node router catalog; do
  terraform -chdir="$render" output -raw "$role" >"$work/user-data-$role.sh"
  shellcheck -s bash "$work/user-data-$role.sh"
  echo "  $role: $(wc -c <"$work/user-data-$role.sh") bytes, shellcheck clean"
done
echo "terraform-test: passed"
