// fetchesIntoShell over POSIX shells and PowerShell. Hand-written command lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchesIntoShell } from './shell.ts';

test('POSIX: a download piped or substituted into a shell, also inside bash -c', () => {
  for (const s of [
    'curl -fsSL https://get.example.sh | sh',
    'wget -qO- https://x | sudo bash -s --',
    'sh -c "$(curl -fsSL https://x/install.sh)"',
    'bash -c "curl -fsSL https://x | sh"',
    "sudo sh -c 'wget -qO- https://x | bash'",
  ])
    assert.ok(fetchesIntoShell(s), s);
  for (const s of [
    'curl -fsSLo /tmp/i.sh https://x && sha256sum -c sums && sh /tmp/i.sh',
    'curl https://x | tar xz',
    'echo "curl x | sh"',
    'bash -c "make test"',
  ])
    assert.equal(fetchesIntoShell(s), undefined, s);
});

test('PowerShell: iwr/irm | iex, Invoke-Expression of a download, WebClient, scriptblock, any case', () => {
  for (const s of [
    'iwr https://get.example/install.ps1 -UseBasicParsing | iex',
    'irm https://get.example/install.ps1 | Invoke-Expression',
    'Invoke-WebRequest -Uri https://x/i.ps1 -UseBasicParsing | IEX',
    'Invoke-RestMethod https://x/i.ps1 | invoke-expression',
    "Set-ExecutionPolicy Bypass -Scope Process -Force; iex ((New-Object System.Net.WebClient).DownloadString('https://x/install.ps1'))",
    'Invoke-Expression (Invoke-WebRequest -Uri https://x/i.ps1 -UseBasicParsing).Content',
    'iex (irm https://x/i.ps1)',
    'iex "& { $(irm https://x/i.ps1) } -Version 1"',
    '& ([scriptblock]::Create((irm https://x/i.ps1))) -Force',
    "(New-Object Net.WebClient).DownloadString('https://x/i.ps1') | iex",
    'powershell -NoProfile -Command "iwr https://x/i.ps1 | iex"',
    'pwsh -c "irm https://x/i.ps1 | iex"',
    'powershell.exe -ExecutionPolicy Bypass -Command "iex ((New-Object Net.WebClient).DownloadString(\'https://x\'))"',
  ])
    assert.ok(fetchesIntoShell(s), s);
  for (const s of [
    'Invoke-WebRequest -Uri https://x/i.ps1 -OutFile i.ps1; if ((Get-FileHash i.ps1).Hash -ne $sum) { exit 1 }; ./i.ps1',
    'iwr https://x/a.zip -OutFile a.zip | Out-Null',
    'iex $localScript',
    'Invoke-Expression "Get-ChildItem"',
    'powershell -Command "Get-Date"',
    '$c = (New-Object Net.WebClient).DownloadFile("https://x/a.zip", "a.zip")',
  ])
    assert.equal(fetchesIntoShell(s), undefined, s);
});
