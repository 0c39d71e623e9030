#!/usr/bin/perl
# rawclient.pl SOCKET STEP... - a minimal milter client (MTA side) in plain
# Perl (perl-base only), for input miltertest cannot send: miltertest copies
# every argument into a 1 KiB buffer (mt.helo crashes beyond that).
#
# SOCKET is a path or unix:PATH.  Each STEP is NAME=VALUE:
#   conn=IP[/HOST]    connect info; IP "unspec" sends no address
#   macro=S:N=V;N=V   macros for stage S (C connect, H helo, M mail, R rcpt)
#   helo=NAME  mail=ADDR  rcpt=ADDR   abort=  quit=
#   eom=       end of message (answered)
#   quitnc=    QUIT_NC: end the session, keep the connection for the next
# In VALUE, {X*N} is X repeated N times and \xHH a byte.
# Output: one line per reply the milter sends:
#   "STEP: c"  /  "STEP: y 550 5.7.1 text"  /  "STEP: EOF" (connection closed)
# Exit 0 when every step was sent (replies are for the caller to judge).
use strict;
use warnings;
use IO::Socket::UNIX;

my $path = shift @ARGV or die "usage: rawclient.pl SOCKET STEP...\n";
$path =~ s/^(unix|local)://;
$SIG{ALRM} = sub { print "TIMEOUT\n"; exit 2 };
$SIG{PIPE} = "IGNORE";
alarm 20;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path)
    or die "connect $path: $!\n";
binmode $s;

sub expand {
	my $v = shift;
	$v =~ s/\\x([0-9a-fA-F]{2})/chr(hex($1))/ge;
	$v =~ s/\{(.)\*(\d+)\}/$1 x $2/gse;
	return $v;
}
sub put {
	my ($cmd, $data) = @_;
	my $pkt = pack('N', length($data) + 1) . $cmd . $data;
	my $off = 0;
	while ($off < length $pkt) {
		my $n = syswrite($s, $pkt, length($pkt) - $off, $off);
		return 0 unless defined $n && $n > 0;
		$off += $n;
	}
	return 1;
}
sub readn {
	my $want = shift;
	my $buf = '';
	while (length($buf) < $want) {
		my $n = sysread($s, $buf, $want - length($buf), length $buf);
		return undef unless $n;
	}
	return $buf;
}
sub get {
	my $h = readn(4) // return;
	my $len = unpack('N', $h);
	my $body = readn($len) // return;
	return (substr($body, 0, 1), substr($body, 1));
}
# reply STEP: read one reply, print it
sub reply {
	my $step = shift;
	my ($cmd, $data) = get();
	if (!defined $cmd) { print "$step: EOF\n"; return 0; }
	$data =~ s/\0+$//;
	print "$step: $cmd", ($data ne '' ? " $data" : ''), "\n";
	return 1;
}

# offer protocol version 6, all actions, every protocol step and NR bit
put('O', pack('NNN', 6, 0x1ff, 0x1fffff)) or die "write: $!\n";
my ($cmd, $data) = get();
die "no option negotiation reply\n" unless defined $cmd && $cmd eq 'O';
my (undef, undef, $proto) = unpack('NNN', $data);
my %nr = (conn => 0x1000, helo => 0x2000, mail => 0x4000, rcpt => 0x8000);

for my $arg (@ARGV) {
	my ($step, $val) = split /=/, $arg, 2;
	$val = expand($val // '');
	my $sent;
	if ($step eq 'conn') {
		my ($ip, $host) = split m{/}, $val, 2;
		$host //= 'client.test';
		if ($ip eq 'unspec') {
			$sent = put('C', "$host\0U");
		} else {
			my $fam = $ip =~ /:/ ? '6' : '4';
			$sent = put('C', "$host\0$fam" . pack('n', 2525) . "$ip\0");
		}
	} elsif ($step eq 'macro') {
		my ($stage, $list) = split /:/, $val, 2;
		my $d = $stage;
		for my $nv (split /;/, $list) {
			my ($n, $v) = split /=/, $nv, 2;
			$d .= "$n\0$v\0";
		}
		$sent = put('D', $d);
	} elsif ($step eq 'helo') { $sent = put('H', "$val\0");
	} elsif ($step eq 'mail') { $sent = put('M', "$val\0");
	} elsif ($step eq 'rcpt') { $sent = put('R', "$val\0");
	} elsif ($step eq 'abort') { $sent = put('A', '');
	} elsif ($step eq 'quit') { $sent = put('Q', '');
	} elsif ($step eq 'eom') { $sent = put('E', '');
	} elsif ($step eq 'quitnc') { $sent = put('K', '');
	} else { die "unknown step $step\n"; }
	if (!$sent) { print "$step: EOF\n"; exit 0; }
	next if $step =~ /^(macro|abort|quit|quitnc)$/;
	next if ($proto & ($nr{$step} // 0));
	reply($step) or exit 0;
}
exit 0;
