#!/usr/bin/env bash
# META.json (PGXN): valid JSON with the spec's required keys, and the same
# version as order_credit.control and debian/changelog. Fast; part of the
# default test run.
set -uo pipefail
cd "$(dirname "$0")/../.."
perl -MJSON::PP -e '
    my $text = do { local $/; open my $f, "<", "META.json" or die "META.json: $!\n"; <$f> };
    my $m = eval { JSON::PP->new->decode($text) } or die "META.json is not valid JSON: $@";
    my @missing = grep { !exists $m->{$_} } qw(name abstract version maintainer license provides meta-spec);
    die "META.json lacks: @missing\n" if @missing;
    die "meta-spec version is not 1.0.0\n" unless $m->{"meta-spec"}{version} eq "1.0.0";
    my ($control) = grep { /^default_version/ } do { open my $c, "<", "order_credit.control" or die; <$c> };
    my ($ext) = $control =~ /\x27([^\x27]+)\x27/;
    my $want = $ext =~ /^\d+\.\d+$/ ? "$ext.0" : $ext;     # PGXN wants semantic versions
    die "META.json version $m->{version}, control file $ext (want $want)\n" unless $m->{version} eq $want;
    my $p = $m->{provides}{order_credit} or die "META.json provides no order_credit\n";
    die "provides.order_credit.version $p->{version}, want $want\n" unless $p->{version} eq $want;
    for my $f (grep { defined } $p->{file}, $p->{docfile}) { die "provides names $f, which does not exist\n" unless -e $f }
    # Every extension of the repository (a control file at the top) is
    # provided, at the default_version of its control file.
    for my $cf (glob "*.control") {
        (my $name = $cf) =~ s/\.control$//;
        my ($line) = grep { /^default_version/ } do { open my $c, "<", $cf or die; <$c> };
        my ($v) = $line =~ /\x27([^\x27]+)\x27/;
        my $w = $v =~ /^\d+\.\d+$/ ? "$v.0" : $v;
        my $q = $m->{provides}{$name} or die "META.json provides no $name ($cf)\n";
        die "provides.$name.version $q->{version}, want $w\n" unless $q->{version} eq $w;
        die "provides.$name.file is $q->{file}, want $cf\n" unless $q->{file} eq $cf;
        for my $f (grep { defined } $q->{docfile}) { die "provides names $f, which does not exist\n" unless -e $f }
    }
    print "META.json: order_credit $m->{version}, control $ext; provides ", join(", ", sort keys %{$m->{provides}}), "\n";
' || exit 1
deb=$(sed -n '1s/^order-credit (\([^-)]*\).*/\1/p' debian/changelog)
ext=$(sed -n "s/^default_version = '\(.*\)'/\1/p" order_credit.control)
[ "$deb" = "$ext" ] || { echo "debian/changelog says $deb, the control file $ext"; exit 1; }
echo "debian/changelog: $deb"
