import { bilingualProblems } from './users-routes.js';

test('account problems read as one Chinese / English message', () => {
  expect(
    bilingualProblems(
      'password: at least 12 characters (密码至少 12 位)\nusername: already taken (用户名已存在)',
    ),
  ).toBe('密码至少 12 位；用户名已存在 / password: at least 12 characters; username: already taken');
  expect(bilingualProblems('district: no district d9 in the registry (区县不存在)')).toBe(
    '区县不存在 / district: no district d9 in the registry',
  );
});
